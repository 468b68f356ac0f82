// Preloaded into a Node.js broker (NODE_OPTIONS `--expose-gc --import <this file>`) by
// benchmarks that sample its memory: SIGUSR2 runs a full garbage collection, so that resident
// memory is read without the garbage a burst of connections left behind. Every Node.js
// system of such a run gets the same preload; a C broker (Mosquitto) has no collector and
// frees as it goes.
const collect = (globalThis as { gc?: () => void }).gc;
if (collect !== undefined) process.on('SIGUSR2', () => collect());
