import { EntityManager, EntityName, FilterQuery } from '@mikro-orm/core';

import { Page, PageRequest } from '@latchkey/contracts';

/**
 * Keyset pagination on the `id` column: ids are prefixed ULIDs, so ordering by id
 * is ordering by creation time, and a page never skips or repeats a row when
 * rows are added meanwhile.
 */
export async function findPage<T extends { id: string }>(
  em: EntityManager,
  entity: EntityName<T>,
  where: FilterQuery<T>,
  page: PageRequest,
): Promise<Page<T>> {
  const filter = page.cursor ? { $and: [where, { id: { $lt: page.cursor } }] } : where;
  const rows = await em.find(entity, filter as FilterQuery<T>, {
    orderBy: { id: 'desc' } as never,
    limit: page.limit + 1,
  });
  const hasMore = rows.length > page.limit;
  const items = hasMore ? rows.slice(0, page.limit) : rows;
  return new Page(items, hasMore, hasMore ? items[items.length - 1].id : null);
}
