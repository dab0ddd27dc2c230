import { Entity, PrimaryKey, Property } from '@mikro-orm/core';

/**
 * A usage batch already counted. Inserted in the same transaction as the batch's
 * counters: when BullMQ redelivers a batch (retry, stall, crash after commit) the
 * insert conflicts and the batch is acknowledged without being counted again.
 */
@Entity({ tableName: 'usage_processed_batches' })
export class ProcessedUsageBatch {
  @PrimaryKey({ type: 'string' })
  batchId!: string;

  @Property({ type: 'datetime' })
  processedAt: Date = new Date();
}
