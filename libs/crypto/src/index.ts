export { constantTimeEquals } from './constant-time-equals';
export { hmacSha256Hex, sha256Hex } from './hash-token';
export { generateOpaqueToken } from './random-token';
export { SecretBox } from './secret-box';
export * from './api-key-format';
export * from './management-key-format';
export * from './request-signature';
export * from './webhook-signature';
