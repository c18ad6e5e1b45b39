// Host check of tilec::StreamKPlan / stream_k_next (tilec/include/tilec/stream_k.cuh), built and run by
// test_stream_k.py: for many (tiles, iters, blocks), simulate every block's walk and check that each (tile, k-step)
// is computed exactly once, and that the fixup's assumptions hold: a unit starting inside its tile (lo > 0) is its
// block's first stream-K unit and ends the tile; a partial unit with lo == 0 (the owner) is its block's last, and
// the next block's first unit holds exactly the rest of that tile.
#include <tilec/stream_k.cuh>

#include <cstdio>
#include <vector>

struct Unit {
  int tile, lo, n;
};

static int check(int tiles, int iters, int ctas) {
  std::vector<int> seen(static_cast<size_t>(tiles) * (iters > 0 ? iters : 1), 0);
  std::vector<std::vector<Unit>> walks(ctas);
  for (int b = 0; b < ctas; ++b) {
    const tilec::StreamKPlan p = tilec::stream_k_plan(tiles, iters, b, ctas, tiles, 1);
    tilec::StreamKUnit u = tilec::stream_k_begin(p);
    for (int guard = 0;; ++guard) {
      if (guard > tiles + 4)
        return std::printf("FAIL tiles=%d iters=%d ctas=%d: block %d never ends\n", tiles, iters, ctas, b), 1;
      const int t = tilec::stream_k_next(p, u);
      if (t < 0) break;
      if (t >= tiles || u.lo < 0 || u.n < 0 || u.lo + u.n > iters || (iters > 0 && u.n == 0))
        return std::printf("FAIL tiles=%d iters=%d ctas=%d: block %d unit (%d, %d, %d)\n", tiles, iters, ctas, b, t,
                           u.lo, u.n), 1;
      walks[b].push_back({t, u.lo, u.n});
      if (iters == 0) ++seen[t];
      for (int k = u.lo; k < u.lo + u.n; ++k) ++seen[static_cast<size_t>(t) * iters + k];
    }
  }
  for (size_t i = 0; i < seen.size(); ++i)
    if (seen[i] != 1)
      return std::printf("FAIL tiles=%d iters=%d ctas=%d: tile %zu k-step %zu done %d times\n", tiles, iters, ctas,
                         i / (iters > 0 ? iters : 1), i % (iters > 0 ? iters : 1), seen[i]), 1;
  for (int b = 0; b < ctas; ++b) {
    const std::vector<Unit>& w = walks[b];
    for (size_t j = 0; j < w.size(); ++j) {
      const Unit& x = w[j];
      const bool whole = x.lo == 0 && x.n == iters;
      if (whole) continue;
      if (x.lo > 0) {  // a contributor: the block's first partial unit, up to the tile's end, owner = block b - 1
        bool first = true;
        for (size_t q = 0; q < j; ++q) first = first && (w[q].lo == 0 && w[q].n == iters);
        if (!first || x.lo + x.n != iters || b == 0 || walks[b - 1].empty() || walks[b - 1].back().tile != x.tile ||
            walks[b - 1].back().lo != 0 || walks[b - 1].back().n != x.lo)
          return std::printf("FAIL tiles=%d iters=%d ctas=%d: block %d unit %zu (%d, %d, %d) is no clean contributor\n",
                             tiles, iters, ctas, b, j, x.tile, x.lo, x.n), 1;
      } else {  // an owner (lo == 0, n < iters): the block's last unit; block b + 1's first partial unit is the rest
        const Unit* next = nullptr;
        if (b + 1 < ctas)
          for (const Unit& y : walks[b + 1])
            if (!(y.lo == 0 && y.n == iters)) {
              next = &y;
              break;
            }
        if (j + 1 != w.size() || next == nullptr || next->tile != x.tile || next->lo != x.n)
          return std::printf("FAIL tiles=%d iters=%d ctas=%d: block %d unit %zu (%d, 0, %d) is no clean owner\n", tiles,
                             iters, ctas, b, j, x.tile, x.n), 1;
      }
    }
  }
  return 0;
}

int main() {
  long long cases = 0;
  const int ctas_list[] = {1, 2, 3, 7, 13, 64, 114, 132};
  const int iters_list[] = {0, 1, 2, 3, 9, 16, 64, 127, 448};
  for (int ctas : ctas_list)
    for (int iters : iters_list)
      for (int tiles = 1; tiles <= 3 * ctas + 5; tiles += (tiles < 2 * ctas + 3 ? 1 : 7)) {
        if (check(tiles, iters, ctas)) return 1;
        ++cases;
      }
  // TARGETS.md's shapes on 132 SMs: 128x256 and 128x192 tiles, k-steps of 64
  const int big[][2] = {{256, 128}, {512, 64}, {3584, 128}, {1024, 448}, {4800, 128}, {2752, 128}, {344, 128}};
  for (const auto& tc : big) {
    if (check(tc[0], tc[1], 132)) return 1;
    ++cases;
  }
  // split-K by two (2 x tiles blocks): M = 128 x N = 8192 with 128x128 tiles, and odd k-step counts
  const int halves[][2] = {{64, 128}, {64, 127}, {33, 3}, {1, 2}};
  for (const auto& tc : halves) {
    const tilec::StreamKPlan p = tilec::stream_k_plan(tc[0], tc[1], 1, 2 * tc[0], tc[0], 1);
    if (p.dp_tiles != 0 || p.sk_begin != tc[1] / 2 || p.sk_end != tc[1])
      return std::printf("FAIL: tiles=%d iters=%d not split in two (dp %d, range %d..%d)\n", tc[0], tc[1], p.dp_tiles,
                         p.sk_begin, p.sk_end), 1;
    if (check(tc[0], tc[1], 2 * tc[0])) return 1;
    ++cases;
  }
  // whole tiles only when the stream-K k-steps would overflow an int
  const tilec::StreamKPlan p = tilec::stream_k_plan(300, 20000000, 0, 132, 300, 1);
  if (p.dp_tiles != 300) return std::printf("FAIL: no int-overflow guard (dp_tiles %d)\n", p.dp_tiles), 1;
  std::printf("ok %lld cases\n", cases);
  return 0;
}
