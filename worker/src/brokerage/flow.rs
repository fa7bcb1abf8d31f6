//! The transportation relaxation as a max-flow network, solved
//! lexicographically by tier with Dinic's algorithm: source -> tier hub
//! [days the tier may carry] -> (request, period) [days asked] ->
//! (practitioner, period) [pair days] -> practitioner [capacity] -> sink
//! [max_days]. Rule 8, the budget and the pins' lower bounds are dropped, so
//! its optimum bounds every plan.
//!
//! Tiers are opened one at a time and augmented to a maximum; an s-t path
//! never runs back through the source, so the flow out of an earlier tier's
//! hub is never reduced. The same network, with the higher tiers' hubs
//! capped at a plan's coverage, bounds each tier with the higher tiers held
//! ([`held_tier_bounds`]); with the pins' days taken out first, it is the
//! exact lexicographic optimum of a problem without rule 8 or a budget
//! ([`best_over_pins`]). It solves no MILP.

use std::collections::VecDeque;

use super::candidates::Prepared;

/// Days per tier no plan can beat (lexicographically), and the flow on each
/// pair and period, `[pair][t]`.
pub fn lexicographic_max_flow(prep: &Prepared<'_>) -> ([u32; 4], Vec<Vec<u32>>) {
    let mut net = Network::new(prep, false);
    let mut tiers = [0u32; 4];
    for (k, tier) in tiers.iter_mut().enumerate() {
        *tier = net.open(k, i64::MAX);
    }
    let flow = net.pair_flow(prep);
    (tiers, flow)
}

/// For each tier `k`, the most days it can carry in the relaxation while
/// every higher tier `j` carries `held[j]` days (a plan's coverage, so
/// feasible in the relaxation): a bound on tier `k` over every plan that
/// covers at least `held[j]` in each higher tier (a flow carrying more in a
/// higher tier carries `held[j]` too, by dropping paths). Never below
/// `held[k]`.
pub fn held_tier_bounds(prep: &Prepared<'_>, held: &[u32; 4]) -> [u32; 4] {
    let mut bounds = [0u32; 4];
    for (k, bound) in bounds.iter_mut().enumerate() {
        let mut net = Network::new(prep, false);
        let mut carried = 0;
        for (j, &days) in held.iter().enumerate().take(k) {
            carried += i64::from(net.open(j, i64::from(days)));
        }
        // The plan itself is such a flow, so the higher tiers carry their
        // days in full; if not, the held days are not a plan's.
        debug_assert_eq!(carried, held.iter().take(k).map(|&d| i64::from(d)).sum::<i64>());
        *bound = net.open(k, i64::MAX).max(held[k]);
    }
    bounds
}

/// Whole days per pair and period of the lexicographic optimum of the
/// primary goal when neither rule 8 nor a budget applies: the pins' days,
/// plus the lexicographic max-flow of what they leave (days asked, days
/// free and `max_days` less the pinned days; each pair's days above its
/// pin). Every plan is its pins plus such a flow, so no plan covers more.
pub fn best_over_pins(prep: &Prepared<'_>) -> Vec<Vec<u32>> {
    let mut net = Network::new(prep, true);
    for k in 0..4 {
        net.open(k, i64::MAX);
    }
    let mut days = net.pair_flow(prep);
    for (d, pair) in days.iter_mut().zip(&prep.pairs) {
        for (x, &pin) in d.iter_mut().zip(&pair.pinned) {
            *x += pin;
        }
    }
    days
}

/// The relaxation's network of a prepared problem, its tier hubs shut.
struct Network {
    g: Graph,
    /// The edge source -> hub of each tier.
    hubs: [(usize, usize); 4],
    /// `(pair, period, edge)` of each pair edge.
    pair_edges: Vec<(usize, usize, (usize, usize))>,
}

impl Network {
    /// With `over_pins`, the pins' days are taken out of every capacity
    /// first (the flow is then what is added to them).
    fn new(prep: &Prepared<'_>, over_pins: bool) -> Network {
        let t_count = prep.periods();
        let n_req = prep.demand.len() * t_count;
        let n_prac = prep.capacity.len() * t_count;
        let source = 0;
        let sink = 1;
        let hub = |k: usize| 2 + k;
        let rt = |r: usize, t: usize| 6 + r * t_count + t;
        let pt = |p: usize, t: usize| 6 + n_req + p * t_count + t;
        let pp = |p: usize| 6 + n_req + n_prac + p;
        let mut g = Graph::new(6 + n_req + n_prac + prep.capacity.len());
        let hubs = [0, 1, 2, 3].map(|k| g.add(source, hub(k), 0));
        let mut pinned_req = vec![vec![0u32; t_count]; prep.demand.len()];
        let mut pinned_prac = vec![vec![0u32; t_count]; prep.capacity.len()];
        if over_pins {
            for pair in &prep.pairs {
                for t in 0..t_count {
                    pinned_req[pair.r][t] += pair.pinned[t];
                    pinned_prac[pair.p][t] += pair.pinned[t];
                }
            }
        }
        for (p, caps) in prep.capacity.iter().enumerate() {
            for (t, &c) in caps.iter().enumerate() {
                let free = c.saturating_sub(pinned_prac[p][t]);
                if free > 0 {
                    g.add(pt(p, t), pp(p), i64::from(free));
                }
            }
            let total: u32 = caps.iter().sum();
            let pinned: u32 = pinned_prac[p].iter().sum();
            let most = prep.max_days[p].map_or(total, |m| m.min(total)).saturating_sub(pinned);
            g.add(pp(p), sink, i64::from(most));
        }
        for (r, asked) in prep.demand.iter().enumerate() {
            for (t, &d) in asked.iter().enumerate() {
                let left = d.saturating_sub(pinned_req[r][t]);
                if left > 0 {
                    g.add(hub(prep.tier[r]), rt(r, t), i64::from(left));
                }
            }
        }
        let mut pair_edges = Vec::new();
        for (i, pair) in prep.pairs.iter().enumerate() {
            for t in 0..t_count {
                let pinned = if over_pins { pair.pinned[t] } else { 0 };
                let upper = prep.upper(i, t) - pinned;
                if upper > 0 {
                    let e = g.add(rt(pair.r, t), pt(pair.p, t), i64::from(upper));
                    pair_edges.push((i, t, e));
                }
            }
        }
        Network { g, hubs, pair_edges }
    }

    /// Lets tier `k` carry up to `cap` days and augments to a maximum;
    /// returns the days tier `k` carries.
    fn open(&mut self, k: usize, cap: i64) -> u32 {
        let (node, idx) = self.hubs[k];
        self.g.edges[node][idx].cap = cap;
        self.g.max_flow(0, 1);
        self.g.edges[node][idx].flow.max(0) as u32
    }

    /// The flow on each pair and period, `[pair][t]`.
    fn pair_flow(&self, prep: &Prepared<'_>) -> Vec<Vec<u32>> {
        let mut flow = vec![vec![0u32; prep.periods()]; prep.pairs.len()];
        for &(i, t, (node, idx)) in &self.pair_edges {
            flow[i][t] = self.g.edges[node][idx].flow.max(0) as u32;
        }
        flow
    }
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
