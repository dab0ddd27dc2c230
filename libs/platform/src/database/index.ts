export * from './delete-in-batches';
