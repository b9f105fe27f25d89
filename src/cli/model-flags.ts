// Flags every model command shares, and opening the model they name with progress on stderr.

import {
  getBackend, loadModel, loadModelTokenizer, type BackendName, type LoadedModel, type LoadModelOptions, type Tokenizer,
} from '../index.js';
import { UsageError, type FlagValues } from './flags.js';
import type { CommandContext } from './command.js';
import { loadProgress } from './progress.js';
import type { Terminal } from './terminal.js';

export const MODEL_FLAGS = {
  backend: { type: 'string', placeholder: 'NAME', description: 'compute backend: native, wasm or ref (default: the fastest that runs)' },
  revision: { type: 'string', placeholder: 'REV', description: 'branch, tag or commit of a hub model (default main)' },
  tokenizer: { type: 'string', placeholder: 'PATH', description: "tokenizer.json (or its folder) to use instead of the model's own" },
} as const;

export const MODEL_DETAILS = '<model> is a local Hugging Face model folder (config.json + *.safetensors) or a hub id such as\n'
  + 'gpt2 or EleutherAI/pythia-70m (downloaded into the Hugging Face cache; HF_TOKEN, HF_ENDPOINT and HF_HUB_OFFLINE apply).\n'
  + 'Leave it out to use the embedded default model, the world-4l organism (models/world-4l).';

type ModelFlagValues = FlagValues<typeof MODEL_FLAGS>;

function loadOptions(flags: ModelFlagValues, context: CommandContext): LoadModelOptions {
  const options: LoadModelOptions = { signal: context.signal, revision: flags.revision, tokenizer: flags.tokenizer };
  if (flags.backend !== undefined) {
    const names: BackendName[] = ['native', 'wasm', 'ref'];
    if (!(names as string[]).includes(flags.backend)) throw new UsageError(`--backend must be one of ${names.join(', ')}, got '${flags.backend}'`);
    options.backend = getBackend(flags.backend as BackendName);
  }
  return options;
}

export async function openModel(nameOrPath: string, flags: ModelFlagValues, terminal: Terminal, context: CommandContext): Promise<LoadedModel> {
  const progress = loadProgress(terminal);
  try {
    return await loadModel(nameOrPath, { ...loadOptions(flags, context), onProgress: progress.onProgress, onDownload: progress.onDownload });
  } finally {
    progress.finish();
  }
}

/** The tokenizer of a model (its own, or --tokenizer), without loading weights. */
export async function openTokenizer(nameOrPath: string, flags: ModelFlagValues, terminal: Terminal, context: CommandContext): Promise<Tokenizer> {
  const progress = loadProgress(terminal);
  try {
    const tokenizer = await loadModelTokenizer(nameOrPath, { ...loadOptions(flags, context), onDownload: progress.onDownload });
    return tokenizer ?? missingTokenizer(nameOrPath);
  } finally {
    progress.finish();
  }
}

export function missingTokenizer(nameOrPath: string): never {
  throw new UsageError(`'${nameOrPath}' has no tokenizer.json; pass --tokenizer <path to a tokenizer.json>`);
}
