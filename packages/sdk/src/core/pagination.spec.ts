import { Page, PageList } from './pagination';

describe(PageList.name, () => {
  const pages: Record<string, Page<number>> = {
    start: { data: [1, 2], hasMore: true, nextCursor: 'c2' },
    c2: { data: [3], hasMore: true, nextCursor: 'c3' },
    c3: { data: [4, 5], hasMore: false, nextCursor: null },
  };

  function list() {
    const asked: Array<string | null> = [];
    const sut = new PageList<number>((cursor) => {
      asked.push(cursor);
      return Promise.resolve(pages[cursor ?? 'start']);
    });
    return { sut, asked };
  }

  it('iterates every item of every page, asking with each next_cursor', async () => {
    const { sut, asked } = list();
    const items: number[] = [];
    for await (const item of sut) items.push(item);
    expect(items).toEqual([1, 2, 3, 4, 5]);
    expect(asked).toEqual([null, 'c2', 'c3']);
  });

  it('asks for a page only when the previous one is used up', async () => {
    const { sut, asked } = list();
    for await (const item of sut) {
      if (item === 2) break;
    }
    expect(asked).toEqual([null]);
  });

  it('answers the first page when awaited, fetching it once', async () => {
    const { sut, asked } = list();
    expect(await sut).toEqual(pages.start);
    expect((await sut).data).toEqual([1, 2]);
    expect(asked).toEqual([null]);
  });

  it('stops when the server repeats a cursor instead of looping', async () => {
    const sut = new PageList<number>(() => Promise.resolve({ data: [1], hasMore: true, nextCursor: 'same' }));
    await expect(sut.toArray()).rejects.toThrow('twice');
  });
});
