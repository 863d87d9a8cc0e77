/** The results folder of a run: its layout, its records and their reading and writing. */
export * from './layout.js';
export * from './records.js';
export * from './csv.js';
export * from './folder.js';
export * from './lock.js';
