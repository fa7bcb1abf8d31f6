//! The transportation relaxation as a max-flow network, solved
//! lexicographically by tier with Dinic's algorithm: source -> (request,
//! period) [days asked] -> (practitioner, period) [pair days] ->
//! practitioner [capacity] -> sink [max_days]. Rule 8, the budget and the
//! pins' lower bounds are dropped, so its optimum bounds every plan.
//!
//! Tiers are added one at a time and augmented to a maximum; an s-t path
//! never runs back through the source, so an earlier tier's flow is never
//! reduced. It solves no MILP.

use std::collections::VecDeque;

use super::candidates::Prepared;

/// Days per tier no plan can beat (lexicographically), and the flow on each
/// pair and period, `[pair][t]`.
pub fn lexicographic_max_flow(prep: &Prepared<'_>) -> ([u32; 4], Vec<Vec<u32>>) {
    let t_count = prep.periods();
    let n_req = prep.demand.len() * t_count;
    let n_prac = prep.capacity.len() * t_count;
    let source = 0;
    let sink = 1;
    let rt = |r: usize, t: usize| 2 + r * t_count + t;
    let pt = |p: usize, t: usize| 2 + n_req + p * t_count + t;
    let pp = |p: usize| 2 + n_req + n_prac + p;
    let mut g = Graph::new(2 + n_req + n_prac + prep.capacity.len());

    for (p, caps) in prep.capacity.iter().enumerate() {
        for (t, &c) in caps.iter().enumerate() {
            if c > 0 {
                g.add(pt(p, t), pp(p), i64::from(c));
            }
        }
        let total: u32 = caps.iter().sum();
        g.add(pp(p), sink, i64::from(prep.max_days[p].map_or(total, |m| m.min(total))));
    }
    let mut pair_edges = Vec::new();
    for (i, pair) in prep.pairs.iter().enumerate() {
        for t in 0..t_count {
            let upper = prep.upper(i, t);
            if upper > 0 {
                let e = g.add(rt(pair.r, t), pt(pair.p, t), i64::from(upper));
                pair_edges.push((i, t, e));
            }
        }
    }
    let mut tiers = [0u32; 4];
    for (k, tier) in tiers.iter_mut().enumerate() {
        for r in (0..prep.demand.len()).filter(|&r| prep.tier[r] == k) {
            for t in 0..t_count {
                if prep.demand[r][t] > 0 {
                    g.add(source, rt(r, t), i64::from(prep.demand[r][t]));
                }
            }
        }
        let before: i64 = g.edges[source].iter().map(|e| e.flow).sum();
        g.max_flow(source, sink);
        let after: i64 = g.edges[source].iter().map(|e| e.flow).sum();
        *tier = (after - before).max(0) as u32;
    }
    let mut flow = vec![vec![0u32; t_count]; prep.pairs.len()];
    for (i, t, (node, idx)) in pair_edges {
        flow[i][t] = g.edges[node][idx].flow.max(0) as u32;
    }
    // Per-tier flow so far counts the source edges of each tier; recompute
    // from the requests so a later tier's rerouting is attributed right.
    let mut by_tier = [0u32; 4];
    for (i, pair) in prep.pairs.iter().enumerate() {
        by_tier[prep.tier[pair.r]] += flow[i].iter().sum::<u32>();
    }
    debug_assert_eq!(by_tier.iter().sum::<u32>(), tiers.iter().sum::<u32>());
    (by_tier, flow)
}

struct Edge {
    to: usize,
    cap: i64,
    flow: i64,
    rev: usize,
}

struct Graph {
    edges: Vec<Vec<Edge>>,
    level: Vec<i32>,
    next: Vec<usize>,
}

impl Graph {
    fn new(n: usize) -> Self {
        Self { edges: (0..n).map(|_| Vec::new()).collect(), level: vec![0; n], next: vec![0; n] }
    }

    /// Adds `from -> to` with capacity `cap`; returns where the edge is.
    fn add(&mut self, from: usize, to: usize, cap: i64) -> (usize, usize) {
        let a = self.edges[from].len();
        let b = self.edges[to].len() + usize::from(from == to);
        self.edges[from].push(Edge { to, cap, flow: 0, rev: b });
        self.edges[to].push(Edge { to: from, cap: 0, flow: 0, rev: a });
        (from, a)
    }

    fn max_flow(&mut self, s: usize, t: usize) {
        while self.bfs(s, t) {
            self.next.iter_mut().for_each(|x| *x = 0);
            while self.dfs(s, t, i64::MAX) > 0 {}
        }
    }

    fn bfs(&mut self, s: usize, t: usize) -> bool {
        self.level.iter_mut().for_each(|l| *l = -1);
        self.level[s] = 0;
        let mut queue = VecDeque::from([s]);
        while let Some(u) = queue.pop_front() {
            for e in &self.edges[u] {
                if e.cap - e.flow > 0 && self.level[e.to] < 0 {
                    self.level[e.to] = self.level[u] + 1;
                    queue.push_back(e.to);
                }
            }
        }
        self.level[t] >= 0
    }

    fn dfs(&mut self, u: usize, t: usize, pushed: i64) -> i64 {
        if u == t {
            return pushed;
        }
        while self.next[u] < self.edges[u].len() {
            let i = self.next[u];
            let (to, residual) = {
                let e = &self.edges[u][i];
                (e.to, e.cap - e.flow)
            };
            if residual > 0 && self.level[to] == self.level[u] + 1 {
                let got = self.dfs(to, t, pushed.min(residual));
                if got > 0 {
                    self.edges[u][i].flow += got;
                    let rev = self.edges[u][i].rev;
                    self.edges[to][rev].flow -= got;
                    return got;
                }
            }
            self.next[u] += 1;
        }
        0
    }
}
