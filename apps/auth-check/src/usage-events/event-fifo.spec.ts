import { EventFifo } from './event-fifo';

describe(EventFifo.name, () => {
  it('takes items in the order they came, up to the count asked', () => {
    const sut = new EventFifo<number>();
    [1, 2, 3, 4, 5].forEach((n) => sut.push(n));
    expect(sut.take(2)).toEqual([1, 2]);
    expect(sut.take(10)).toEqual([3, 4, 5]);
    expect(sut.take(1)).toEqual([]);
    expect(sut.length).toBe(0);
  });

  it('drops the oldest item, and says when there is none', () => {
    const sut = new EventFifo<number>();
    expect(sut.dropOldest()).toBe(false);
    [1, 2, 3].forEach((n) => sut.push(n));
    expect(sut.dropOldest()).toBe(true);
    expect(sut.length).toBe(2);
    expect(sut.take(5)).toEqual([2, 3]);
  });

  it('stays correct across compactions of a long backlog', () => {
    const sut = new EventFifo<number>();
    let next = 0;
    let expected = 0;
    for (let round = 0; round < 50; round += 1) {
      for (let i = 0; i < 1_000; i += 1) sut.push(next++);
      for (let i = 0; i < 300; i += 1) {
        sut.dropOldest();
        expected += 1;
      }
      const taken = sut.take(500);
      expect(taken[0]).toBe(expected);
      expect(taken[taken.length - 1]).toBe(expected + taken.length - 1);
      expected += taken.length;
    }
    expect(sut.length).toBe(next - expected);
  });
});
