import { loginFailureDelayMs } from './login-throttle.service';

describe('loginFailureDelayMs', () => {
  it('lets the first two failures through at once, then doubles the hold up to 2 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 20].map(loginFailureDelayMs)).toEqual([0, 0, 250, 500, 1000, 2000, 2000, 2000]);
  });
});
