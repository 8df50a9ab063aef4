package ai.chunkwise.train.bench;

import ai.chunkwise.train.backend.CpuBuild;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * ND4J's native builds side by side: one SeCO step of {@link BenchLlama} in child JVMs that load the plain AVX2
 * build and the oneDNN/AVX2 build in alternation (so both see the same moments of a shared machine); the
 * ratio of their median CPU and wall seconds.
 */
final class BuildsSuite {
    private static final String SUITE = "builds";
    private static final List<String> BUILDS = List.of("-avx2", "-onednn-avx2");
    private final BenchCommand bench;

    BuildsSuite(BenchCommand bench) {
        this.bench = bench;
    }

    void run() throws Exception {
        boolean quick = bench.quick();
        int tokens = quick ? 1024 : 4096;
        int chunk = quick ? 128 : 256;
        int rounds = quick ? 1 : 3;
        ProbeRunner runner = new ProbeRunner(bench.methodsCapBytes(), bench.timeoutSeconds());
        Map<String, List<Double>> cpu = new LinkedHashMap<>();
        Map<String, List<Double>> wall = new LinkedHashMap<>();
        for (int r = 0; r < rounds; r++) {
            for (String build : BUILDS) {
                ObjectNode result = runner.run(ProbeSpec.of("seco", tokens, chunk, 1, 2),
                        List.of("-D" + CpuBuild.PROPERTY + "=" + build));
                ObjectNode out = bench.result(SUITE);
                out.put("method", "seco");
                out.put("build", "linux-x86_64" + build);
                out.put("round", r + 1);
                out.put("tokens", tokens);
                out.put("chunk_size", chunk);
                out.setAll(result);
                bench.emit(out);
                if (result.path("status").asText().equals("ok")) {
                    cpu.computeIfAbsent(build, b -> new ArrayList<>()).add(result.get("cpu_seconds_p50").asDouble());
                    wall.computeIfAbsent(build, b -> new ArrayList<>()).add(result.get("seconds_p50").asDouble());
                }
            }
        }
        if (cpu.size() == 2) {
            ObjectNode ctx = bench.json().createObjectNode();
            ctx.put("tokens", tokens);
            ctx.put("chunk_size", chunk);
            ctx.put("rounds", rounds);
            bench.emitContext(SUITE, "onednn-avx2/avx2 seco step CPU seconds (median of rounds)",
                    median(cpu.get("-onednn-avx2")) / median(cpu.get("-avx2")), ctx);
            bench.emitContext(SUITE, "onednn-avx2/avx2 seco step wall seconds (median of rounds)",
                    median(wall.get("-onednn-avx2")) / median(wall.get("-avx2")), ctx);
        }
    }

    private static double median(List<Double> values) {
        double[] v = values.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(v);
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }
}
