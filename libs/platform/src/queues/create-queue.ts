import { Logger } from '@nestjs/common';
import { Queue } from 'bullmq';

import { AppConfig } from '@latchkey/config';

import { RedisPurpose } from '../redis/redis-connection';
import { attachConnection, bullConnection, queuePrefix } from './bull-connection';

/**
 * A BullMQ queue for producing jobs, the same way everywhere: the deployment's key
 * prefix, and a connection that fails a command fast while Redis is away (the
 * producer's own back-off or the caller retries it) instead of queueing it for ever.
 * Errors are logged: without a listener BullMQ's 'error' event would crash the process.
 */
export function createProducerQueue<DataType, ResultType = unknown, NameType extends string = string>(
  name: string,
  config: AppConfig,
  logger: Logger,
): Queue<DataType, ResultType, NameType> {
  const connection = bullConnection(config, RedisPurpose.QueueProducer);
  const queue = new Queue<DataType, ResultType, NameType>(name, { prefix: queuePrefix(config, name), connection });
  attachConnection(queue, connection);
  queue.on('error', (error: Error) => logger.debug(`redis (${name}): ${error.message}`));
  return queue;
}
