import { PipeTransform } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';

import { MessageContract } from '@latchkey/contracts';

import { jsonSchemaParser } from '../errors/json-schema-parser';

/** One compiled check per contract, however many handlers and routes share it. */
const compiled = new WeakMap<MessageContract, (payload: unknown) => unknown>();

/**
 * The check of a message against its contract, compiled on first use: the message as
 * its derived type, or a VALIDATION_FAILED AppError naming each bad field (400 over
 * HTTP, an RpcErrorReply over the Redis transport). `refine` adds what the
 * schema cannot say and throws its own AppError.
 */
export function contractParser<T>(contract: MessageContract<T>, refine?: (message: T) => void): (payload: unknown) => T {
  let parse = compiled.get(contract) as ((payload: unknown) => T) | undefined;
  if (parse === undefined) {
    parse = jsonSchemaParser<T>(contract.schema as object, contract.messages);
    compiled.set(contract, parse);
  }
  if (refine === undefined) return parse;
  const shape = parse;
  return (payload) => {
    const message = shape(payload);
    refine(message);
    return message;
  };
}

/**
 * Checks a `@MessagePattern` handler's payload against its contract. The parameter's
 * type is a type alias, so the global ValidationPipe (which the microservice inherits)
 * sees `Object` and leaves the payload to this pipe.
 */
export class MessageContractPipe<T> implements PipeTransform<unknown, T> {
  private readonly parse: (payload: unknown) => T;

  constructor(contract: MessageContract<T>, refine?: (message: T) => void) {
    this.parse = contractParser(contract, refine);
  }

  transform(value: unknown): T {
    return this.parse(value);
  }
}

/** `@Payload()` checked against a contract: how every Redis-transport handler takes its message. */
export function MessagePayload<T>(contract: MessageContract<T>, refine?: (message: T) => void): ParameterDecorator {
  return Payload(new MessageContractPipe(contract, refine));
}
