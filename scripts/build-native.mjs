#!/usr/bin/env node
// Builds the optional native backend (native/binding.gyp → native/build/Release/dissect_native.node)
// with the node-gyp that ships inside npm. Runs as the package's `install` script, so it must never
// fail an install: whatever goes wrong, it prints one line saying why and that wasm will be used,
// and exits 0. `--verbose` (npm run build:native) also shows node-gyp's own output.
//
// Set DISSECT_SKIP_NATIVE=1 to skip the build.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(root, 'native');
const addonFile = join(nativeDir, 'build', 'Release', 'dissect_native.node');
const verbose = process.argv.includes('--verbose');
const BUILD_TIMEOUT_MS = 10 * 60 * 1000;

function giveUp(reason) {
  console.log(`dissect: native backend not built (${reason}); using wasm`);
  process.exit(0);
}

/** npm tells lifecycle scripts where its node-gyp is; otherwise look beside npm, then in node_modules. */
function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    join(dirname(process.execPath), 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  try {
    candidates.push(createRequire(join(root, 'package.json')).resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not installed locally: fine, the others may exist
  }
  return candidates.find((path) => path && existsSync(path)) ?? null;
}

/**
 * Node's own headers when this Node was installed with them (a distro package or a tarball), so
 * node-gyp does not try to download them. Under npm, npm_config_nodedir already says where.
 */
function localNodeDir() {
  if (process.env.npm_config_nodedir) return null;
  const prefix = resolve(dirname(process.execPath), '..');
  return existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? prefix : null;
}

/** The most telling line of a failed build: a compiler error, else what node-gyp or make said. */
function failureReason(output) {
  const lines = output.split('\n').map((line) => line.trim()).filter(Boolean);
  if (lines.some((line) => /network connectivity/.test(line))) {
    return 'Node headers are not installed here and could not be downloaded';
  }
  const pick = lines.find((line) => /\b(fatal )?error:/.test(line))
    ?? lines.find((line) => /^make: \*\*\*/.test(line))
    ?? lines.find((line) => /^gyp ERR! stack Error: /.test(line))?.replace(/^gyp ERR! stack Error: /, '')
    ?? lines.find((line) => /^gyp ERR! /.test(line))
    ?? lines.at(-1)
    ?? 'no output';
  return `node-gyp failed: ${pick.length > 160 ? `${pick.slice(0, 157)}...` : pick}`;
}

function build() {
  if (process.env.DISSECT_SKIP_NATIVE === '1') giveUp('DISSECT_SKIP_NATIVE=1');
  if (process.arch !== 'x64') giveUp(`needs an x64 CPU with AVX2, this is ${process.arch}`);
  if (process.platform === 'win32') giveUp('Windows builds are not supported yet');
  const nodeGyp = findNodeGyp();
  if (!nodeGyp) giveUp('node-gyp not found; it ships with npm');

  const args = [nodeGyp, 'rebuild', '--directory', nativeDir, '--jobs', 'max'];
  const nodeDir = localNodeDir();
  if (nodeDir) args.push(`--nodedir=${nodeDir}`);
  const result = spawnSync(process.execPath, args, {
    cwd: root,
    encoding: 'utf8',
    stdio: verbose ? 'inherit' : 'pipe',
    timeout: BUILD_TIMEOUT_MS,
  });
  if (result.error) giveUp(`could not run node-gyp: ${result.error.message}`);
  if (result.status !== 0) {
    giveUp(verbose ? `node-gyp exited with ${result.status ?? result.signal}, see above` : failureReason(`${result.stdout}\n${result.stderr}`));
  }
  if (!existsSync(addonFile)) giveUp(`the build produced no ${addonFile}`);

  // Load it in a fresh process: a wrong ABI or a CPU without AVX2 shows here, not at first use.
  const probe = spawnSync(process.execPath,
    ['-e', `process.stdout.write(String(require(${JSON.stringify(addonFile)}).cpuSupported()))`],
    { encoding: 'utf8' });
  if (probe.status !== 0) giveUp(`the built addon does not load: ${probe.stderr.trim().split('\n')[0]}`);
  if (probe.stdout !== 'true') giveUp('this CPU lacks AVX2/FMA');
  console.log(`dissect: native backend built (${addonFile})`);
}

try {
  build();
} catch (err) {
  giveUp(`unexpected error: ${err instanceof Error ? err.message : String(err)}`);
}
