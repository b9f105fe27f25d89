// Public surface of src/editing (re-exported by src/index.ts).
export {};
