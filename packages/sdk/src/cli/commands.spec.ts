import { newerThan } from './commands';

async function* pages(ids: string[], asked: string[]) {
  for (const id of ids) {
    asked.push(id);
    yield { id };
  }
}

describe('newerThan (logs --follow)', () => {
  it('keeps the entries newer than the last one printed, oldest first, and reads no further', async () => {
    const asked: string[] = [];
    const fresh = await newerThan(pages(['req_05', 'req_04', 'req_03', 'req_02', 'req_01'], asked), 'req_03');
    expect(fresh.map((entry) => entry.id)).toEqual(['req_04', 'req_05']);
    expect(asked).toEqual(['req_05', 'req_04', 'req_03']);
  });

  it('gives everything when nothing was printed yet, and nothing when nothing is new', async () => {
    expect((await newerThan(pages(['req_02', 'req_01'], []), '')).map((entry) => entry.id)).toEqual(['req_01', 'req_02']);
    expect(await newerThan(pages(['req_02', 'req_01'], []), 'req_02')).toEqual([]);
  });
});
