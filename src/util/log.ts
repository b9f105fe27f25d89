// Notices (one-line messages a user should see, e.g. "native backend unavailable, using wasm") go
// through a replaceable handler so library code never prints: the CLI installs its own renderer.

export type NoticeHandler = (message: string) => void;

let handler: NoticeHandler = (message) => {
  // Default for library users who did not install a handler: stderr in Node, console elsewhere.
  console.warn(`dissect: ${message}`);
};

export function setNoticeHandler(next: NoticeHandler): NoticeHandler {
  const previous = handler;
  handler = next;
  return previous;
}

export function notice(message: string): void {
  handler(message);
}
