// Public surface of src/discovery (re-exported by src/index.ts).
export {};
