package ai.chunkwise.train.bench;

import ai.chunkwise.train.checkpoint.PeftAdapter;
import ai.chunkwise.train.engine.Batch;
import ai.chunkwise.train.engine.EngineSpec;
import ai.chunkwise.train.engine.GradientEngine;
import ai.chunkwise.train.engine.InferencePass;
import ai.chunkwise.train.engine.Method;
import ai.chunkwise.train.engine.SpacoSampling;
import ai.chunkwise.train.memory.PeakMemory;
import ai.chunkwise.train.model.LlamaConfig;
import ai.chunkwise.train.model.LlamaModel;
import ai.chunkwise.train.model.LlamaTensorLayout;
import ai.chunkwise.train.model.LoraConfig;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * One LoRA step of a model at a real width (a config.json such as conf/models/llama-3.2-1b.json) at reduced or
 * full depth, with random weights in bf16 or fp32, in its own JVM: prints one JSON line with the step's time and
 * peak resident memory, and what the model itself keeps (weights, adapter), so peaks can be extrapolated per layer.
 *
 * <p>Arguments: config.json layers method(seco|spaco|inference) tokens chunk base-dtype(bf16|fp32) lora-rank
 * warmups repeats [budget].
 */
public final class RealShapeProbe {
    private static final List<String> ALL_PROJECTIONS =
            List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");

    private RealShapeProbe() {
    }

    public static void main(String[] args) throws Exception {
        ai.chunkwise.train.backend.CpuBuild.select();
        LlamaConfig full = LlamaConfig.fromJson(Path.of(args[0]));
        int layers = Integer.parseInt(args[1]);
        String method = args[2];
        int tokens = Integer.parseInt(args[3]);
        int chunk = Integer.parseInt(args[4]);
        DataType base = args[5].equals("bf16") ? DataType.BFLOAT16 : DataType.FLOAT;
        int rank = Integer.parseInt(args[6]);
        int warmups = Integer.parseInt(args[7]);
        int repeats = Integer.parseInt(args[8]);
        double budget = args.length > 9 ? Double.parseDouble(args[9]) : 0;
        LlamaConfig config = atDepth(full, layers, tokens);

        long residentBeforeModel = PeakMemory.residentSetBytes();
        Map<String, INDArray> weights = randomWeights(config, base, 42);
        PeftAdapter adapter = PeftAdapter.init(config, lora(rank), 7, DataType.FLOAT);
        long weightBytes = weights.values().stream().mapToLong(w -> w.length() * w.dataType().width()).sum();
        long adapterBytes = adapter.tensors().values().stream().mapToLong(w -> w.length() * 4L).sum();
        LlamaModel model = new LlamaModel(config, weights, adapter, DataType.FLOAT, 1);
        System.gc();
        long residentWithModel = PeakMemory.residentSetBytes();
        Batch batch = Batch.of(randomTokens(tokens, config.vocabSize(), 7));
        Runnable step;
        if (method.equals("inference")) {
            InferencePass pass = new InferencePass(model, chunk);
            step = () -> pass.loss(batch);
        } else {
            Method m = Method.parse(method);
            GradientEngine engine = new EngineSpec(m, chunk, budget, m.sampled() ? SpacoSampling.BERNOULLI : null)
                    .create(model);
            long[] seed = {1};
            step = () -> engine.compute(batch, seed[0]++);
        }
        ObjectNode out = new ObjectMapper().createObjectNode();
        out.put("config", args[0]);
        out.put("layers", layers);
        out.put("method", method);
        out.put("tokens", tokens);
        out.put("chunk", chunk);
        out.put("base_dtype", args[5]);
        out.put("lora_rank", rank);
        out.put("budget", budget);
        out.put("weight_bytes", weightBytes);
        out.put("estimate_bytes", ai.chunkwise.train.memory.MemoryEstimate.of(config, lora(rank), 4,
                base == DataType.BFLOAT16 ? 2 : 4, 1, tokens, chunk, method.equals("full")).totalBytes());
        out.put("adapter_bytes", adapterBytes);
        out.put("rss_before_model_bytes", residentBeforeModel);
        out.put("rss_with_model_bytes", residentWithModel);
        try (PeakMemory memory = PeakMemory.start()) {
            StepTimes times = StepTimes.measure(warmups, repeats, step);
            memory.close();
            out.put("status", "ok");
            out.put("seconds_p50", times.median());
            out.put("tokens_per_second", tokens / times.median());
            out.put("peak_rss_bytes", memory.peakResidentBytes());
            out.put("peak_heap_bytes", memory.peakHeapBytes());
            out.put("peak_javacpp_tracked_bytes", memory.peakJavaCppTrackedBytes());
        } catch (OutOfMemoryError e) {
            out.put("status", "out_of_memory");
            out.put("error", String.valueOf(e.getMessage()));
        }
        System.out.println(ProbeRunner.RESULT_PREFIX + out);
    }

    /** {@code full}'s widths at {@code layers} layers, with room for {@code tokens} positions. */
    static LlamaConfig atDepth(LlamaConfig full, int layers, int tokens) {
        return new LlamaConfig(full.vocabSize(), full.hiddenSize(), full.intermediateSize(), layers,
                full.numAttentionHeads(), full.numKeyValueHeads(), full.headDim(), full.rmsNormEps(),
                full.ropeTheta(), full.ropeScaling(), full.tieWordEmbeddings(),
                Math.max(tokens, full.maxPositionEmbeddings()), full.bosTokenId(), full.eosTokenId());
    }

    /** The probes' adapter: rank r, alpha 2r, on all seven projections. */
    static LoraConfig lora(int rank) {
        return new LoraConfig(rank, 2.0 * rank, ALL_PROJECTIONS);
    }

    /** N(0, 0.02^2) matrices and unit norm weights in {@code type}, drawn per tensor by ND4J's seeded RNG. */
    static Map<String, INDArray> randomWeights(LlamaConfig config, DataType type, long seed) {
        Map<String, INDArray> weights = new LinkedHashMap<>();
        Nd4j.getRandom().setSeed(seed);
        LlamaTensorLayout.expectedShapes(config).forEach((name, shape) -> {
            INDArray w = shape.length == 1 ? Nd4j.ones(DataType.FLOAT, shape)
                    : Nd4j.randn(DataType.FLOAT, shape).muli(0.02);
            weights.put(name, type == DataType.FLOAT ? w : w.castTo(type));
        });
        return weights;
    }

    static long[][] randomTokens(int length, int vocab, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        long[] row = new long[length];
        for (int i = 0; i < length; i++) {
            row[i] = random.nextInt(vocab);
        }
        return new long[][]{row};
    }
}
