package ai.chunkwise.train.bench;

import ai.chunkwise.train.model.ChunkInput;
import ai.chunkwise.train.model.KeyValues;
import ai.chunkwise.train.model.LlamaConfig;
import ai.chunkwise.train.model.LlamaModel;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.nd4j.linalg.api.buffer.DataType;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The Java side of the attention-core suite, in a child JVM with one OpenMP thread ({@link AttentionCoreSuite}
 * starts it): for each past length, the attention core forward + backward of {@link BenchLlama}'s shapes in every
 * variant, and one whole SeCO chunk step of BenchLlama (the core's share of a step), repeats interleaved so that a
 * change in the machine's load touches every variant alike. One JSON line per variant and past length.
 *
 * <p>Arguments: chunk pasts(comma-separated) warmups repeats blockKeys.
 */
public final class AttentionCoreProbe {
    static final String CHUNK_STEP = "chunk-step";
    private static final ObjectMapper JSON = new ObjectMapper();

    private AttentionCoreProbe() {
    }

    public static void main(String[] args) {
        ai.chunkwise.train.backend.CpuBuild.select();
        int chunk = Integer.parseInt(args[0]);
        int[] pasts = Arrays.stream(args[1].split(",")).mapToInt(Integer::parseInt).toArray();
        int warmups = Integer.parseInt(args[2]);
        int repeats = Integer.parseInt(args[3]);
        int blockKeys = Integer.parseInt(args[4]);
        LlamaConfig c = BenchLlama.CONFIG;
        LlamaModel model = BenchLlama.create(42);
        List<AttentionCore> cores = List.of(new SameDiffAttention(DataType.FLOAT, c.numAttentionHeads(), c.headDim()),
                new EagerAttention(), new BatchedEagerAttention(), new BlockwiseAttention(blockKeys));
        for (int past : pasts) {
            AttentionInputs in = AttentionInputs.random(DataType.FLOAT, c.numAttentionHeads(), chunk, past,
                    c.headDim(), 11);
            SplittableRandom random = new SplittableRandom(3);
            ChunkInput chunkIn = ChunkCostSuite.chunkInput(c, chunk, past, random);
            KeyValues pastKv = ChunkCostSuite.randomKv(c, past);
            KeyValues upstream = ChunkCostSuite.randomKv(c, chunk);
            Map<String, Runnable> steps = new LinkedHashMap<>();
            for (AttentionCore core : cores) {
                steps.put(core.name(), () -> {
                    AttentionGradients g = core.run(in);
                    if (core.callerOwnsOutputs()) {
                        g.close();
                    }
                });
            }
            steps.put(CHUNK_STEP, () -> model.backward(chunkIn, pastKv, upstream, new HashMap<>()));
            Map<String, Samples> samples = new LinkedHashMap<>();
            steps.keySet().forEach(name -> samples.put(name, new Samples(repeats)));
            for (int i = 0; i < warmups; i++) {
                steps.values().forEach(Runnable::run);
            }
            List<String> order = new ArrayList<>(steps.keySet());
            for (int r = 0; r < repeats; r++) {
                for (int j = 0; j < order.size(); j++) {
                    String name = order.get((j + r) % order.size());   // each variant starts a round in turn
                    samples.get(name).time(r, steps.get(name));
                }
            }
            for (AttentionCore core : cores) {
                emit(samples.get(core.name()).line(core.name(), chunk, past, c, blockKeys, core.ledger()));
            }
            emit(samples.get(CHUNK_STEP).line(CHUNK_STEP, chunk, past, c, blockKeys, null));
        }
    }

    private static void emit(ObjectNode n) {
        System.out.println(AttentionCoreSuite.RESULT_PREFIX + n);
        System.out.flush();
    }

    /** Wall, this thread's CPU, the process's CPU and this thread's Java heap allocation of each repeat. */
    private record Samples(double[] wall, double[] threadCpu, double[] processCpu, double[] heapBytes) {
        private static final com.sun.management.ThreadMXBean THREADS =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

        Samples(int repeats) {
            this(new double[repeats], new double[repeats], new double[repeats], new double[repeats]);
        }

        void time(int r, Runnable step) {
            long heap0 = THREADS.getCurrentThreadAllocatedBytes();
            long process0 = StepTimes.processCpuNanos();
            long thread0 = THREADS.getCurrentThreadCpuTime();
            long t0 = System.nanoTime();
            step.run();
            wall[r] = (System.nanoTime() - t0) / 1e9;
            threadCpu[r] = (THREADS.getCurrentThreadCpuTime() - thread0) / 1e9;
            processCpu[r] = (StepTimes.processCpuNanos() - process0) / 1e9;
            heapBytes[r] = THREADS.getCurrentThreadAllocatedBytes() - heap0;
        }

        ObjectNode line(String variant, int chunk, int past, LlamaConfig c, int blockKeys, ArrayLedger ledger) {
            ObjectNode n = JSON.createObjectNode();
            n.put("variant", variant);
            n.put("past_tokens", past);
            n.put("chunk_size", chunk);
            n.put("heads", c.numAttentionHeads());
            n.put("head_dim", c.headDim());
            if (variant.equals("blockwise")) {
                n.put("block_keys", blockKeys);
            }
            if (variant.equals(CHUNK_STEP)) {
                n.put("layers", c.numHiddenLayers());
            }
            StepTimes wallTimes = new StepTimes(wall, processCpu);
            n.put("seconds_p50", wallTimes.median());
            n.put("seconds_p95", wallTimes.percentile(95));
            n.putPOJO("seconds", wall);
            n.put("thread_cpu_seconds_p50", new StepTimes(threadCpu, threadCpu).median());
            n.put("process_cpu_seconds_p50", wallTimes.cpuMedian());
            n.put("heap_allocated_bytes_p50", (long) new StepTimes(heapBytes, heapBytes).median());
            if (ledger != null) {
                n.put("native_allocated_bytes", ledger.allocatedBytes());
                n.put("native_peak_live_bytes", ledger.peakLiveBytes());
            }
            String omp = System.getenv("OMP_NUM_THREADS");
            n.put("omp_num_threads", omp == null ? "unset" : omp);
            return n;
        }
    }
}
