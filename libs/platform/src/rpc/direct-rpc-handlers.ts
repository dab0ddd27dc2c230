import { Injectable } from '@nestjs/common';

/** A hot pattern's handler as the transport calls it: the raw payload in, the reply (or a thrown AppError) out. */
export type DirectRpcHandler = (payload: unknown) => unknown;

/**
 * Handlers the Redis Streams transport calls without Nest's pipeline: no guards, pipes,
 * interceptors or Observables, one function call. For hot patterns only (`auth.verify`),
 * as the front door answers the HTTP check routes before Fastify. The pattern keeps its
 * `@MessagePattern` (that is how the transport learns to read its stream); a handler
 * registered here validates its own payload, and what it throws becomes an
 * RpcErrorReply exactly as the exception filter would make it.
 */
@Injectable()
export class DirectRpcHandlers {
  private readonly handlers = new Map<string, DirectRpcHandler>();

  register(pattern: string, handler: DirectRpcHandler): void {
    if (this.handlers.has(pattern)) throw new Error(`${pattern} has a direct RPC handler already`);
    this.handlers.set(pattern, handler);
  }

  get(pattern: string): DirectRpcHandler | undefined {
    return this.handlers.get(pattern);
  }
}
