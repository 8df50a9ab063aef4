package ai.chunkwise.train.bench;

import ai.chunkwise.train.model.ChunkGraphs;
import ai.chunkwise.train.model.ChunkInput;
import ai.chunkwise.train.model.KeyValues;
import ai.chunkwise.train.model.LlamaConfig;
import ai.chunkwise.train.model.LlamaModel;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.nd4j.autodiff.samediff.SameDiff;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * The Java side of the step-profile suite, in a child JVM with one OpenMP thread ({@link StepProfileSuite} starts
 * it): one SeCO chunk step of {@link BenchLlama} (the backward visit of a chunk: forward with the past, backward
 * with an injected K/V gradient) per past length, every op of the gradient function timed by an {@link OpTimer}
 * and summed per category ({@link OpCategories}). Plain steps (timer idle) alternate with profiled ones, so the
 * timer's own cost shows as the difference. One JSON line per past length, medians over the repeats.
 *
 * <p>Arguments: chunk pasts(comma-separated) warmups repeats.
 */
public final class StepProfileProbe {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static final int TOP_OPS = 25;

    private StepProfileProbe() {
    }

    public static void main(String[] args) {
        ai.chunkwise.train.backend.CpuBuild.select();
        int chunk = Integer.parseInt(args[0]);
        int[] pasts = Arrays.stream(args[1].split(",")).mapToInt(Integer::parseInt).toArray();
        int warmups = Integer.parseInt(args[2]);
        int repeats = Integer.parseInt(args[3]);
        LlamaConfig c = BenchLlama.CONFIG;
        LlamaModel model = BenchLlama.create(42);
        OpTimer timer = new OpTimer();
        OpCategories categories = null;
        for (int past : pasts) {
            SplittableRandom random = new SplittableRandom(3);
            ChunkInput in = ChunkCostSuite.chunkInput(c, chunk, past, random);
            KeyValues pastKv = ChunkCostSuite.randomKv(c, past);
            KeyValues upstream = ChunkCostSuite.randomKv(c, chunk);
            Runnable step = () -> model.backward(in, pastKv, upstream, new HashMap<>());
            for (int i = 0; i < Math.max(1, warmups); i++) {
                step.run();
            }
            if (categories == null) {
                SameDiff grad = ChunkGraphs.gradient(model);
                grad.addListeners(timer);
                categories = new OpCategories(ChunkGraphs.forward(model), grad);
            }
            Profile profile = new Profile(repeats);
            for (int r = 0; r < repeats; r++) {
                long[] plain = time(step);
                profile.plainWall[r] = plain[0];
                profile.plainCpu[r] = plain[1];
                timer.start();
                long[] profiled = time(step);
                timer.stop();
                profile.add(r, profiled, timer, categories);
            }
            emit(profile.line(chunk, past, c));
        }
    }

    /** Wall, thread CPU and GC nanoseconds of one step (the model collects after each backward chunk). */
    private static long[] time(Runnable step) {
        long gc0 = gcMillis();
        long cpu0 = THREADS.getCurrentThreadCpuTime();
        long t0 = System.nanoTime();
        step.run();
        return new long[] {System.nanoTime() - t0, THREADS.getCurrentThreadCpuTime() - cpu0,
                (gcMillis() - gc0) * 1_000_000L};
    }

    private static long gcMillis() {
        long ms = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            ms += Math.max(0, gc.getCollectionTime());
        }
        return ms;
    }

    private static void emit(ObjectNode n) {
        System.out.println(StepProfileSuite.RESULT_PREFIX + n);
        System.out.flush();
    }

    private static double medianMs(double[] nanos) {
        double[] s = nanos.clone();
        Arrays.sort(s);
        int rank = (int) Math.ceil(0.5 * s.length);
        return s[Math.max(0, rank - 1)] / 1e6;
    }

    /** Per-repeat nanoseconds of the step, the graph span and each category (wall and thread CPU). */
    private static final class Profile {
        final int repeats;
        final double[] plainWall;
        final double[] plainCpu;
        final double[] wall;
        final double[] cpu;
        final double[] span;
        final double[] opsWall;
        final double[] opsCpu;
        final double[] gc;
        final Map<String, double[]> categoryWall = new LinkedHashMap<>();
        final Map<String, double[]> categoryCpu = new LinkedHashMap<>();
        final Map<String, Integer> categoryCalls = new HashMap<>();
        final Map<String, double[]> typeWall = new TreeMap<>();   // "category/op type"
        final Map<String, double[]> opWall = new HashMap<>();
        final Map<String, String> opShape = new HashMap<>();

        Profile(int repeats) {
            this.repeats = repeats;
            plainWall = new double[repeats];
            plainCpu = new double[repeats];
            wall = new double[repeats];
            cpu = new double[repeats];
            span = new double[repeats];
            opsWall = new double[repeats];
            opsCpu = new double[repeats];
            gc = new double[repeats];
            for (String cat : OpCategories.ALL) {
                categoryWall.put(cat, new double[repeats]);
                categoryCpu.put(cat, new double[repeats]);
            }
        }

        void add(int r, long[] step, OpTimer timer, OpCategories categories) {
            wall[r] = step[0];
            cpu[r] = step[1];
            span[r] = timer.spanNanos();
            gc[r] = step[2];
            Map<String, Integer> calls = new HashMap<>();
            timer.ops().forEach((name, t) -> {
                String cat = categories.of(name);
                String type = categories.type(name);
                opsWall[r] += t.wallNanos;
                opsCpu[r] += t.cpuNanos;
                categoryWall.get(cat)[r] += t.wallNanos;
                categoryCpu.get(cat)[r] += t.cpuNanos;
                calls.merge(cat, t.calls, Integer::sum);
                typeWall.computeIfAbsent(cat + "/" + type, k -> new double[repeats])[r] += t.wallNanos;
                opWall.computeIfAbsent(name, k -> new double[repeats])[r] += t.wallNanos;
                opShape.put(name, cat + " " + type + " -> " + t.outputShape);
            });
            categoryCalls.putAll(calls);
        }

        ObjectNode line(int chunk, int past, LlamaConfig c) {
            ObjectNode n = JSON.createObjectNode();
            n.put("side", "chunkwise");
            n.put("past_tokens", past);
            n.put("chunk_size", chunk);
            n.put("layers", c.numHiddenLayers());
            n.put("repeats", repeats);
            n.put("plain_step_wall_ms_p50", medianMs(plainWall));
            n.put("plain_step_cpu_ms_p50", medianMs(plainCpu));
            n.put("step_wall_ms_p50", medianMs(wall));
            n.put("step_cpu_ms_p50", medianMs(cpu));
            n.put("graph_span_ms_p50", medianMs(span));
            n.put("ops_wall_ms_p50", medianMs(opsWall));
            n.put("ops_cpu_ms_p50", medianMs(opsCpu));
            double[] betweenOps = new double[repeats];
            double[] outside = new double[repeats];
            int calls = 0;
            for (int r = 0; r < repeats; r++) {
                betweenOps[r] = span[r] - opsWall[r];
                outside[r] = wall[r] - span[r] - gc[r];
            }
            for (int k : categoryCalls.values()) {
                calls += k;
            }
            // the session's own work between ops (output shapes and arrays, dependency bookkeeping), the GC the
            // model runs after each backward chunk, and the Java work around the graph call (feeds, gradient sums)
            n.put("op_calls", calls);
            n.put("between_ops_ms_p50", medianMs(betweenOps));
            n.put("gc_ms_p50", medianMs(gc));
            n.put("outside_graph_ms_p50", medianMs(outside));
            ObjectNode cats = n.putObject("categories");
            for (String cat : OpCategories.ALL) {
                ObjectNode o = cats.putObject(cat);
                o.put("wall_ms_p50", medianMs(categoryWall.get(cat)));
                o.put("cpu_ms_p50", medianMs(categoryCpu.get(cat)));
                o.put("op_calls", categoryCalls.getOrDefault(cat, 0));
            }
            ObjectNode types = n.putObject("by_op_type_wall_ms_p50");
            typeWall.forEach((k, v) -> types.put(k, medianMs(v)));
            List<Map.Entry<String, double[]>> top = new ArrayList<>(opWall.entrySet());
            top.sort((a, b) -> Double.compare(medianMs(b.getValue()), medianMs(a.getValue())));
            ArrayNode tops = n.putArray("top_ops");
            for (Map.Entry<String, double[]> e : top.subList(0, Math.min(TOP_OPS, top.size()))) {
                tops.add(e.getKey() + " " + opShape.get(e.getKey()) + String.format(" %.2f ms", medianMs(e.getValue())));
            }
            String omp = System.getenv("OMP_NUM_THREADS");
            n.put("omp_num_threads", omp == null ? "unset" : omp);
            return n;
        }
    }
}
