package ai.chunkwise.train.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;


/**
 * Under one RSS cap, the longest sequence (doubling search) on which {@code full} and {@code seco} complete one
 * training step of {@link BenchLlama}; each attempt runs in its own JVM, killed when it crosses the cap.
 */
final class MaxLengthSuite {
    private static final String SUITE = "max-length";
    private final BenchCommand bench;

    MaxLengthSuite(BenchCommand bench) {
        this.bench = bench;
    }

    void run() throws Exception {
        boolean quick = bench.quick();
        long cap = quick ? (long) (1.25 * (1L << 30)) : bench.maxLengthCapBytes();
        int from = quick ? 256 : 1024;
        int to = quick ? 4096 : bench.searchUpTo();
        int chunk = quick ? 128 : bench.chunkSize();   // SeCO's peak grows with chunk x past: a user's lever
        ProbeRunner runner = new ProbeRunner(cap, bench.timeoutSeconds());
        long fullMax = longest("full", from, to, chunk, runner, cap);
        long secoMax = longest("seco", from, to, chunk, runner, cap);
        ObjectNode ctx = bench.json().createObjectNode();
        ctx.put("cap_bytes", cap);
        ctx.put("chunk_size", chunk);
        ctx.put("full_max_tokens", fullMax);
        ctx.put("seco_max_tokens", secoMax);
        ctx.put("searched_up_to", to);
        if (fullMax > 0) {
            double v = (double) secoMax / fullMax;
            ctx.put("seco_reached_search_limit", secoMax >= to);   // then v is a lower bound
            String name = "seco/full longest trainable length";
            if (quick) {
                bench.emitContext(SUITE, name, v, ">= 16 under the same cap in a full run (not --quick)", ctx);
            } else {
                bench.emitTarget(SUITE, name, v, ">= 16", v >= 16, ctx);
            }
        }
    }

    /** Doubles the length until a step fails; returns the longest that completed (0 if none). */
    private long longest(String method, int from, int to, int chunk, ProbeRunner runner, long cap) throws Exception {
        long best = 0;
        for (int tokens : BenchCommand.doubling(from, to)) {
            ObjectNode r = runner.run(ProbeSpec.of(method, tokens, chunk, 0, 1));
            ObjectNode out = bench.result(SUITE);
            out.put("method", method);
            out.put("tokens", tokens);
            out.put("chunk_size", chunk);
            out.put("cap_bytes", cap);
            out.setAll(r);
            bench.emit(out);
            if (!r.path("status").asText().equals("ok")) {
                break;
            }
            best = tokens;
        }
        ObjectNode summary = bench.result(SUITE);
        summary.put("method", method);
        summary.put("longest_tokens", best);
        summary.put("cap_bytes", cap);
        bench.emit(summary);
        return best;
    }

}
