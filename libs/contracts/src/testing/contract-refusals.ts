import Ajv, { ErrorObject } from 'ajv';

import { MessageContract, RECEIVER_AJV_OPTIONS } from '../message-contract';

/**
 * The contract as its receivers compile it (RECEIVER_AJV_OPTIONS), so a contract's
 * spec judges the schema an SDK bundles without importing the receivers' code
 * (libs/contracts imports no other lib).
 */
const ajv = new Ajv(RECEIVER_AJV_OPTIONS);

/** The fields the contract refuses in the payload (`body`: the payload as a whole), sorted; empty when it passes. */
export function refusedFields(contract: MessageContract, payload: unknown): string[] {
  const validate = ajv.compile(contract.schema as object);
  if (validate(payload)) return [];
  return [...new Set((validate.errors ?? []).map(fieldOf))].sort();
}

/** The keys of a contract's `messages` that name no field of its schema: a typo there is never said. */
export function messagesForUnknownFields(contract: MessageContract): string[] {
  const fields = new Set(['body', ...fieldsOf(contract.schema, '')]);
  return Object.keys(contract.messages).filter((field) => !fields.has(field));
}

function fieldOf(error: ErrorObject): string {
  const path = error.instancePath.replace(/^\//, '').replace(/\//g, '.');
  const params = error.params as { additionalProperty?: string; missingProperty?: string };
  const named = params.additionalProperty ?? params.missingProperty;
  return [path, named].filter(Boolean).join('.') || 'body';
}

function fieldsOf(schema: unknown, parent: string): string[] {
  const properties = (schema as { properties?: Record<string, unknown> }).properties ?? {};
  return Object.entries(properties).flatMap(([name, property]) => {
    const field = parent ? `${parent}.${name}` : name;
    return [field, ...fieldsOf(property, field)];
  });
}
