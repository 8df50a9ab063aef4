package ai.chunkwise.train.bench;

import ai.chunkwise.train.checkpoint.PeftAdapter;
import ai.chunkwise.train.memory.PeakMemory;
import ai.chunkwise.train.model.ChunkInput;
import ai.chunkwise.train.model.KeyValues;
import ai.chunkwise.train.model.LlamaConfig;
import ai.chunkwise.train.model.LlamaModel;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * SeCO's memory peak of a whole sequence without running the whole sequence: a LoRA model at a real width, the
 * K/V cache of every earlier position and the buffer of their accumulated gradients (what pass 2 holds), and the
 * LAST chunk (the longest past) run forward and backward twice, in its own JVM. A full step at these widths takes
 * tens of minutes on 2 cores; this takes one chunk's time. Checked against {@link RealShapeProbe}'s whole steps
 * where those run (docs/performance.md).
 *
 * <p>Arguments: config.json layers tokens chunk base-dtype(bf16|fp32) lora-rank [kv-cache-dtype(fp32|bf16)]; the
 * last, fp32 when left out, is the type of the cache and of the gradient buffer (train.method.kv-cache-dtype:
 * bf16 is what {@code bfloat16} keeps; the upstream gradient of the chunk's own K/V stays fp32, as SeCO widens it).
 */
public final class PeakChunkProbe {
    private PeakChunkProbe() {
    }

    public static void main(String[] args) throws Exception {
        ai.chunkwise.train.backend.CpuBuild.select();
        LlamaConfig full = LlamaConfig.fromJson(Path.of(args[0]));
        int layers = Integer.parseInt(args[1]);
        int tokens = Integer.parseInt(args[2]);
        int chunk = Integer.parseInt(args[3]);
        DataType base = args[4].equals("bf16") ? DataType.BFLOAT16 : DataType.FLOAT;
        int rank = Integer.parseInt(args[5]);
        String cacheName = args.length > 6 ? args[6] : "fp32";
        DataType cacheType = switch (cacheName) {
            case "fp32" -> DataType.FLOAT;
            case "bf16" -> DataType.BFLOAT16;
            default -> throw new IllegalArgumentException("kv-cache-dtype must be fp32 or bf16, got " + cacheName);
        };
        LlamaConfig config = RealShapeProbe.atDepth(full, layers, tokens);
        Map<String, INDArray> weights = RealShapeProbe.randomWeights(config, base, 42);
        PeftAdapter adapter = PeftAdapter.init(config, RealShapeProbe.lora(rank), 7, DataType.FLOAT);
        long weightBytes = weights.values().stream().mapToLong(w -> w.length() * w.dataType().width()).sum();
        LlamaModel model = new LlamaModel(config, weights, adapter, DataType.FLOAT, 1);
        int past = tokens - chunk;
        KeyValues cache = narrowed(ChunkCostSuite.randomKv(config, past), cacheType);
        KeyValues gradients = KeyValues.zeros(config, 1, past, cacheType);
        KeyValues upstream = ChunkCostSuite.randomKv(config, chunk);
        ChunkInput in = ChunkCostSuite.chunkInput(config, chunk, past, new SplittableRandom(3));
        System.gc();
        long residentBefore = PeakMemory.residentSetBytes();
        ObjectNode out = new ObjectMapper().createObjectNode();
        out.put("config", args[0]);
        out.put("layers", layers);
        out.put("tokens", tokens);
        out.put("chunk", chunk);
        out.put("base_dtype", args[4]);
        out.put("lora_rank", rank);
        out.put("kv_cache_dtype", cacheName);
        out.put("weight_bytes", weightBytes);
        out.put("estimate_bytes", ai.chunkwise.train.memory.MemoryEstimate.of(config, RealShapeProbe.lora(rank), 4,
                base == DataType.BFLOAT16 ? 2 : 4, cacheType == DataType.BFLOAT16 ? 2 : 4, 1, tokens, chunk, false)
                .totalBytes());
        out.put("rss_with_model_and_cache_bytes", residentBefore);
        try (PeakMemory memory = PeakMemory.start()) {
            long start = System.nanoTime();
            for (int i = 0; i < 2; i++) {
                model.forward(in, cache, false);
                model.backward(in, cache, upstream, new HashMap<>(), gradients);
            }
            memory.close();
            out.put("status", "ok");
            out.put("seconds_two_chunk_steps", (System.nanoTime() - start) / 1e9);
            out.put("peak_rss_bytes", memory.peakResidentBytes());
            out.put("peak_heap_bytes", memory.peakHeapBytes());
        } catch (OutOfMemoryError e) {
            out.put("status", "out_of_memory");
            out.put("error", String.valueOf(e.getMessage()));
        }
        System.out.println(ProbeRunner.RESULT_PREFIX + out);
    }

    /** {@code kv} in {@code type}: as it is for fp32, else each layer's arrays cast (the float32 ones dropped). */
    private static KeyValues narrowed(KeyValues kv, DataType type) {
        if (type == DataType.FLOAT) {
            return kv;
        }
        INDArray[] k = new INDArray[kv.layers()];
        INDArray[] v = new INDArray[kv.layers()];
        for (int l = 0; l < kv.layers(); l++) {
            k[l] = kv.keys()[l].castTo(type);
            v[l] = kv.values()[l].castTo(type);
            kv.keys()[l].close();
            kv.values()[l].close();
        }
        return new KeyValues(k, v);
    }
}
