package ai.chunkwise.train.bench;

import ai.chunkwise.pipeline.format.DatasetHeader;
import ai.chunkwise.pipeline.format.LocalDatasetWriter;
import ai.chunkwise.pipeline.packing.PackedSequence;
import ai.chunkwise.pipeline.packing.PackingPolicy;
import ai.chunkwise.pipeline.tokenizer.TokenizerInfo;
import ai.chunkwise.train.loop.MetricsLog;
import ai.chunkwise.train.loop.TrainSettings;
import ai.chunkwise.train.loop.Trainer;
import ai.chunkwise.train.model.LlamaConfig;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.ConfigUtil;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * train.distributed = spark against the same run in one process, side by side in one JVM: LoRA SeCO steps of
 * {@code accumulation} micro-batches at a real model width (random weights), computed (a) in the driver alone,
 * (b) as Spark tasks on one task slot (local[1]) and (c) on two (local[2]), each slot one core (run with
 * OMP_NUM_THREADS=1). Spark's per-step overhead (the weights' broadcast, job scheduling with task and result
 * serialization, the ordered reduction) is timed inside (b); (b) / (c) is the scaling from one executor core to two.
 * The first step of each run (model loading on the executors, warm-up) is left out of the means.
 *
 * <p>Usage: DistributedThroughputProbe CONFIG LAYERS TOKENS STEPS ACCUMULATION [CHUNK]; prints one JSON line.
 */
public final class DistributedThroughputProbe {
    private static final ObjectMapper JSON = new ObjectMapper();

    private DistributedThroughputProbe() {
    }

    public static void main(String[] args) throws Exception {
        Path configFile = Path.of(args[0]);
        int layers = Integer.parseInt(args[1]);
        int tokens = Integer.parseInt(args[2]);
        int steps = Integer.parseInt(args[3]);
        int accumulation = Integer.parseInt(args[4]);
        int chunk = args.length > 5 ? Integer.parseInt(args[5]) : 256;
        Path work = Files.createTempDirectory("chunkwise-dp-bench");
        RandomModel model = new RandomModel();
        model.config = configFile;
        model.layers = layers;
        model.dtype = "bfloat16";
        model.std = 0.02;
        model.out = work.resolve("model");
        model.call();
        LlamaConfig config = LlamaConfig.fromJson(model.out.resolve("config.json"));
        Path dataset = randomDataset(work.resolve("dataset"), config.vocabSize(), tokens, chunk,
                steps * accumulation + 4);

        Map<String, String> o = new LinkedHashMap<>();
        o.put("train.data.dataset", ConfigUtil.quoteString(dataset.toString()));
        o.put("train.data.check-tokenizer", "false");
        o.put("train.model.path", ConfigUtil.quoteString(model.out.toString()));
        o.put("train.lora.enabled", "true");
        o.put("train.lora.targets", "[q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj]");
        o.put("train.method.name", "seco");
        o.put("train.method.chunk-size", String.valueOf(chunk));
        o.put("train.accumulation-steps", String.valueOf(accumulation));
        o.put("train.steps", String.valueOf(steps));
        o.put("train.checkpoint-every", "0");
        o.put("train.save.dtype", "float32");

        ObjectNode result = JSON.createObjectNode();
        result.put("probe", "distributed-throughput");
        result.put("config", configFile.toString());
        result.put("layers", layers);
        result.put("tokens", tokens);
        result.put("chunk", chunk);
        result.put("accumulation", accumulation);
        result.put("steps", steps);
        result.put("omp_num_threads", String.valueOf(System.getenv("OMP_NUM_THREADS")));
        result.put("load_average_before", ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        double inProcess = mean(train(o, work.resolve("in-process"), null), "step_seconds");
        Path spark1 = train(o, work.resolve("spark-1"), "local[1]");
        double oneSlot = mean(spark1, "step_seconds");
        Path spark2 = train(o, work.resolve("spark-2"), "local[2]");
        double twoSlots = mean(spark2, "step_seconds");
        for (String key : List.of("spark_broadcast_ms", "spark_job_ms", "spark_task_compute_ms", "spark_reduce_ms")) {
            result.put("spark_1_slot_" + key, mean(spark1, key));
            result.put("spark_2_slots_" + key, mean(spark2, key));
        }
        // on one slot the tasks run one after another: the job's time beyond their own is Spark's
        result.put("spark_1_slot_scheduling_ms", mean(spark1, "spark_job_ms") - mean(spark1, "spark_task_compute_ms"));
        result.put("in_process_step_s", inProcess);
        result.put("spark_1_slot_step_s", oneSlot);
        result.put("spark_2_slots_step_s", twoSlots);
        long tokensPerStep = (long) tokens * accumulation;
        result.put("in_process_tokens_per_s", tokensPerStep / inProcess);
        result.put("spark_1_slot_tokens_per_s", tokensPerStep / oneSlot);
        result.put("spark_2_slots_tokens_per_s", tokensPerStep / twoSlots);
        result.put("speedup_2_vs_1_slot", oneSlot / twoSlots);
        // Spark's own share of a step, measured inside the one-slot run: the broadcast, the job's time beyond its
        // tasks' compute (scheduling, task and result serialization), the ordered reduction. Comparing the one-slot
        // run's wall clock with the in-process run's measures the machine's load as much as Spark on a shared machine.
        result.put("spark_overhead_ms_per_step", mean(spark1, "spark_broadcast_ms") + mean(spark1, "spark_job_ms")
                - mean(spark1, "spark_task_compute_ms") + mean(spark1, "spark_reduce_ms"));
        result.put("wall_clock_1_slot_over_in_process", oneSlot / inProcess);
        result.put("load_average_after", ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        System.out.println(result);
    }

    private static Path train(Map<String, String> base, Path out, String master) {
        Map<String, String> o = new LinkedHashMap<>(base);
        o.put("train.output", ConfigUtil.quoteString(out.toString()));
        if (master != null) {
            o.put("train.distributed", "spark");
            o.put("train.spark.master", ConfigUtil.quoteString(master));
        }
        new Trainer(TrainSettings.load(null, o), new PrintStream(new ByteArrayOutputStream())).run(false, Long.MAX_VALUE, false);
        return out;
    }

    /** Mean of a metrics.jsonl key without the first step. */
    private static double mean(Path out, String key) throws Exception {
        List<String> lines = Files.readAllLines(out.resolve(MetricsLog.FILE_NAME));
        double sum = 0;
        for (String line : lines.subList(1, lines.size())) {
            sum += JSON.readTree(line).get(key).asDouble();
        }
        return sum / (lines.size() - 1);
    }

    /** Rows of random token ids, one document each, every token a target. */
    private static Path randomDataset(Path dir, int vocab, int tokens, int chunk, int rows) {
        TokenizerInfo tokenizer = new TokenizerInfo("random-" + vocab, vocab, 1, 2, 0, "random");
        DatasetHeader header = new DatasetHeader(DatasetHeader.CURRENT_FORMAT_VERSION, tokenizer, chunk, tokens / chunk,
                PackingPolicy.CHUNK_ALIGNED);
        SplittableRandom random = new SplittableRandom(7);
        try (LocalDatasetWriter w = new LocalDatasetWriter(dir, header, 4, 1)) {
            for (int r = 0; r < rows; r++) {
                int[] ids = new int[tokens];
                byte[] mask = new byte[tokens];
                for (int j = 0; j < tokens; j++) {
                    ids[j] = 3 + random.nextInt(vocab - 3);
                    mask[j] = (byte) (j == 0 ? 0 : 1);
                }
                w.write(new PackedSequence(r, ids, mask, new int[] {0}, new int[] {tokens}, false, 0));
            }
            w.finish("distributed throughput probe", new TreeMap<>(), rows, new TreeMap<>());
        }
        return dir;
    }
}
