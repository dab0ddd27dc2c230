/**
 * Public ids and bare ULIDs. Their own lib, below both libs/db (whose entities are
 * made with them) and libs/platform (request ids, id-shaped DTO fields), so neither
 * has to import the other for them; it imports no other @latchkey lib.
 */
export { IdPrefix, isIdOf, isUlidTime, newId, newUlid, ulidAt, ulidLowerBoundAt } from './ids';
