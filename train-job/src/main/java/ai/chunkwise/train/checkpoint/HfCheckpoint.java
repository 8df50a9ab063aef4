package ai.chunkwise.train.checkpoint;

import ai.chunkwise.train.model.LlamaTensorLayout;
import ai.chunkwise.train.model.LlamaConfig;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A Hugging Face Llama checkpoint directory: {@code config.json} plus {@code model.safetensors}, or shards
 * listed in {@code model.safetensors.index.json}. Loading checks that every tensor the config implies is
 * present with the right shape, so a model never starts from a partial or mismatched checkpoint.
 */
public final class HfCheckpoint {
    public static final String CONFIG_FILE = "config.json";
    public static final String WEIGHTS_FILE = "model.safetensors";
    public static final String INDEX_FILE = "model.safetensors.index.json";

    private static final Logger LOG = LoggerFactory.getLogger(HfCheckpoint.class);
    private static final ObjectMapper JSON = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private final LlamaConfig config;
    private final Map<String, INDArray> weights;

    private HfCheckpoint(LlamaConfig config, Map<String, INDArray> weights) {
        this.config = config;
        this.weights = weights;
    }

    public LlamaConfig config() {
        return config;
    }

    /** The model's tensors by Hugging Face name, in module order, with PyTorch shapes (Linear weights [out, in]). */
    public Map<String, INDArray> weights() {
        return weights;
    }

    /** Loads a checkpoint; floating-point weights are converted to {@code floatType} (FLOAT or DOUBLE). */
    public static HfCheckpoint load(Path modelDir, DataType floatType) {
        return load(modelDir, floatType, FrozenWeights.WIDENED);
    }

    /**
     * Loads a checkpoint tensor by tensor (each read straight into its array; no file is held in memory): F32 and
     * F64 weights become {@code floatType} (FLOAT or DOUBLE), BF16 and F16 ones too, or stay BFLOAT16 / HALF as
     * stored with {@link FrozenWeights#AS_STORED}. Tensors the config does not imply are not read.
     */
    public static HfCheckpoint load(Path modelDir, DataType floatType, FrozenWeights frozen) {
        if (!Files.isDirectory(modelDir)) {
            throw new IllegalArgumentException("model directory " + modelDir + " does not exist or is not a directory");
        }
        LlamaConfig config = LlamaConfig.fromJson(modelDir.resolve(CONFIG_FILE));
        Path single = modelDir.resolve(WEIGHTS_FILE);
        Path index = modelDir.resolve(INDEX_FILE);
        if (!Files.isRegularFile(single) && !Files.isRegularFile(index)) {
            throw new IllegalArgumentException("model directory " + modelDir + " has neither " + WEIGHTS_FILE + " nor "
                    + INDEX_FILE + (hasPickleWeights(modelDir)
                    ? "; it has PyTorch .bin weights, which are not read (pickle): convert them to safetensors, e.g."
                      + " load with transformers and save_pretrained(dir, safe_serialization=True)" : ""));
        }
        // before the table of expected tensors (num_hidden_layers entries) or any weight is built
        ai.chunkwise.train.memory.MemoryEstimate.requireWeights(modelDir.resolve(CONFIG_FILE).toString(), config,
                bytesPerWeight(modelDir, floatType, frozen), ai.chunkwise.train.memory.MemoryEstimate.availableBytes());
        Set<String> expected = LlamaTensorLayout.expectedShapes(config).keySet();
        boolean keepStored = frozen == FrozenWeights.AS_STORED;
        Map<String, INDArray> found = new LinkedHashMap<>();
        Map<String, Path> sourceOf = new LinkedHashMap<>();
        if (Files.isRegularFile(single)) {
            for (String name : SafeTensors.readDTypes(single).keySet()) {
                sourceOf.put(name, single);
            }
            found.putAll(SafeTensors.read(single, floatType, keepStored, expected::contains));
        } else {
            readShards(modelDir, index, floatType, keepStored, expected, found, sourceOf);
        }
        return new HfCheckpoint(config, Collections.unmodifiableMap(
                selectExpected(config, found, sourceOf, modelDir)));
    }

    /**
     * Bytes per weight of {@code modelDir}'s checkpoint once loaded (headers only): 2 for a bf16/fp16 checkpoint
     * kept as stored, else the compute type's width (for memory estimates).
     */
    public static int bytesPerWeight(Path modelDir, DataType floatType, FrozenWeights frozen) {
        if (frozen == FrozenWeights.AS_STORED) {
            DataType stored = storedFloatType(modelDir);
            if (stored == DataType.BFLOAT16 || stored == DataType.HALF) {
                return 2;
            }
        }
        return floatType == DataType.DOUBLE ? 8 : 4;
    }

    /**
     * Writes {@code config.json} and {@code model.safetensors} (float32) into {@code modelDir}; both files are
     * written under temporary names first, so a crash never leaves a half-written checkpoint.
     * {@code weights} must be exactly the tensors the config implies.
     */
    public static void save(Path modelDir, LlamaConfig config, Map<String, INDArray> weights) {
        LinkedHashMap<String, INDArray> ordered = checkedForSaving(modelDir, config, weights);
        AtomicFiles.writeDirectory(modelDir, tmp -> {
            writeConfig(config, tmp.resolve(CONFIG_FILE));
            SafeTensors.write(tmp.resolve(WEIGHTS_FILE), ordered, Map.of("format", "pt"), DataType.FLOAT);
        });
    }

    /**
     * Writes a model directory for use outside Chunkwise (see {@link HfModelWriter}): weights in
     * {@code export}'s type, sharded above its size, with generation_config.json and the tokenizer files.
     */
    public static void save(Path modelDir, LlamaConfig config, Map<String, INDArray> weights, DataType trainingType,
                            ModelExport export) {
        LinkedHashMap<String, INDArray> ordered = checkedForSaving(modelDir, config, weights);
        AtomicFiles.writeDirectory(modelDir, tmp -> HfModelWriter.write(tmp, config, ordered, trainingType, export));
    }

    /** {@code weights} in checkpoint order, once checked to be exactly the tensors the config implies. */
    static LinkedHashMap<String, INDArray> checkedForSaving(Path modelDir, LlamaConfig config, Map<String, INDArray> weights) {
        LinkedHashMap<String, long[]> expected = LlamaTensorLayout.expectedShapes(config);
        LinkedHashMap<String, INDArray> ordered = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : expected.entrySet()) {
            INDArray t = weights.get(e.getKey());
            if (t == null) {
                throw new IllegalArgumentException("cannot save checkpoint " + modelDir + ": tensor \"" + e.getKey()
                        + "\" is missing (expected shape " + Arrays.toString(e.getValue()) + ")");
            }
            if (!Arrays.equals(t.shape(), e.getValue())) {
                throw new IllegalArgumentException("cannot save checkpoint " + modelDir + ": tensor \"" + e.getKey()
                        + "\" has shape " + Arrays.toString(t.shape()) + ", the config implies " + Arrays.toString(e.getValue()));
            }
            ordered.put(e.getKey(), t);
        }
        List<String> unknown = weights.keySet().stream().filter(n -> !expected.containsKey(n)).sorted().toList();
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("cannot save checkpoint " + modelDir + ": tensors " + unknown
                    + " are not part of a LlamaForCausalLM with this config"
                    + (config.tieWordEmbeddings() && unknown.contains(LlamaTensorLayout.LM_HEAD)
                    ? " (lm_head.weight is tied to the embeddings and must not be saved)" : ""));
        }
        return ordered;
    }

    /**
     * The element type the checkpoint in {@code modelDir} stores its floating-point weights in (BFLOAT16, HALF,
     * FLOAT or DOUBLE), read from the safetensors headers only; the most common one when they mix.
     */
    public static DataType storedFloatType(Path modelDir) {
        Path file = modelDir.resolve(WEIGHTS_FILE);
        if (!Files.isRegularFile(file)) {
            Path index = modelDir.resolve(INDEX_FILE);
            try {
                JsonNode first = JSON.readTree(index.toFile()).path("weight_map").elements().next();
                file = modelDir.resolve(first.asText());
            } catch (IOException | RuntimeException e) {
                throw new IllegalArgumentException("cannot tell the weight type of " + modelDir + ": neither "
                        + WEIGHTS_FILE + " nor a readable " + INDEX_FILE + " (" + e.getMessage() + ")", e);
            }
        }
        Map<String, Integer> counts = new TreeMap<>();
        SafeTensors.readDTypes(file).values().stream().filter(t -> SafeTensorsDType.parse(t)
                .map(SafeTensorsDType::isFloatingPoint).orElse(false)).forEach(t -> counts.merge(t, 1, Integer::sum));
        String most = counts.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElse("F32");
        return switch (most) {
            case "BF16" -> DataType.BFLOAT16;
            case "F16" -> DataType.HALF;
            case "F64" -> DataType.DOUBLE;
            default -> DataType.FLOAT;
        };
    }

    /** A checkpoint of already checked weights (e.g. a training run's full-precision copy). */
    static HfCheckpoint of(LlamaConfig config, Map<String, INDArray> weights) {
        return new HfCheckpoint(config, Collections.unmodifiableMap(new LinkedHashMap<>(weights)));
    }

    private static void readShards(Path modelDir, Path index, DataType floatType, boolean keepStored,
                                   Set<String> expected, Map<String, INDArray> found, Map<String, Path> sourceOf) {
        JsonNode root;
        try {
            root = JSON.readTree(index.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException("shard index " + index + " is not valid JSON: " + e.getMessage(), e);
        }
        JsonNode weightMap = root == null ? null : root.get("weight_map");
        if (weightMap == null || !weightMap.isObject()) {
            throw new IllegalArgumentException("shard index " + index + " has no \"weight_map\" object");
        }
        // shard file -> tensor names the index assigns to it
        Map<String, List<String>> byShard = new TreeMap<>();
        weightMap.fields().forEachRemaining(e -> {
            String shard = e.getValue().isTextual() ? e.getValue().asText() : "";
            Path dir = modelDir.toAbsolutePath().normalize();
            // shards must be plain file names inside the model directory, never paths that escape it
            if (shard.isEmpty() || !dir.equals(dir.resolve(shard).normalize().getParent())) {
                throw new IllegalArgumentException("shard index " + index + " maps tensor \"" + e.getKey() + "\" to "
                        + e.getValue() + ", which is not a file name in " + modelDir);
            }
            byShard.computeIfAbsent(shard, k -> new ArrayList<>()).add(e.getKey());
        });
        for (Map.Entry<String, List<String>> shard : byShard.entrySet()) {
            Path file = modelDir.resolve(shard.getKey());
            if (!Files.isRegularFile(file)) {
                throw new IllegalArgumentException("shard index " + index + " lists shard " + shard.getKey() + " (holding \""
                        + shard.getValue().get(0) + "\" and " + (shard.getValue().size() - 1) + " more), which does not exist");
            }
            Set<String> inFile = SafeTensors.readDTypes(file).keySet();
            Set<String> listed = new HashSet<>(shard.getValue());
            for (String name : shard.getValue()) {
                if (!inFile.contains(name)) {
                    throw new IllegalArgumentException("shard index " + index + " places tensor \"" + name + "\" in "
                            + file + ", but that shard does not contain it");
                }
                sourceOf.put(name, file);
            }
            for (String stray : inFile) {
                if (!listed.contains(stray)) {
                    LOG.warn("{}: tensor \"{}\" is not listed in {} and is ignored", file, stray, INDEX_FILE);
                }
            }
            found.putAll(SafeTensors.read(file, floatType, keepStored,
                    name -> listed.contains(name) && expected.contains(name)));
        }
    }

    private static LinkedHashMap<String, INDArray> selectExpected(LlamaConfig config, Map<String, INDArray> found,
                                                                  Map<String, Path> sourceOf, Path modelDir) {
        LinkedHashMap<String, long[]> expected = LlamaTensorLayout.expectedShapes(config);
        List<String> missing = new ArrayList<>();
        LinkedHashMap<String, INDArray> selected = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : expected.entrySet()) {
            INDArray t = found.get(e.getKey());
            if (t == null) {
                missing.add(e.getKey());
                continue;
            }
            if (!t.dataType().isFPType()) {
                throw new IllegalArgumentException("checkpoint " + sourceOf.get(e.getKey()) + ": tensor \"" + e.getKey()
                        + "\" has integer type " + t.dataType() + ", a floating-point weight is expected");
            }
            if (!Arrays.equals(t.shape(), e.getValue())) {
                throw new IllegalArgumentException("checkpoint " + sourceOf.get(e.getKey()) + ": tensor \"" + e.getKey()
                        + "\" has shape " + Arrays.toString(t.shape()) + " but " + modelDir.resolve(CONFIG_FILE)
                        + " implies " + Arrays.toString(e.getValue()) + ": the weights do not belong to this config");
            }
            selected.put(e.getKey(), t);
        }
        if (!missing.isEmpty()) {
            // GPTQ/AWQ store q_proj.qweight/qzeros/scales, bitsandbytes weight.absmax/SCB, FP8 weight_scale (every
            // tensor name the files hold is in sourceOf; only the expected ones were read)
            String quantized = sourceOf.keySet().stream().filter(n -> n.endsWith(".qweight") || n.endsWith(".qzeros")
                    || n.endsWith(".absmax") || n.endsWith(".SCB") || n.endsWith(".weight_scale")
                    || n.endsWith(".weight_scale_inv")).findFirst().orElse(null);
            if (quantized != null) {
                throw new IllegalArgumentException("checkpoint " + modelDir + " is quantized (it stores \"" + quantized
                        + "\" instead of plain weights such as \"" + missing.get(0) + "\"): Chunkwise trains"
                        + " bf16/float16/float32 weights; dequantize to bf16 first, or use the unquantized checkpoint");
            }
            throw new IllegalArgumentException("checkpoint " + modelDir + " lacks " + missing.size() + " tensor(s) that "
                    + CONFIG_FILE + " implies, e.g. " + missing.subList(0, Math.min(5, missing.size()))
                    + (missing.contains(LlamaTensorLayout.LM_HEAD)
                    ? "; if the LM head shares the embedding matrix, the config must say \"tie_word_embeddings\": true" : ""));
        }
        for (String name : sourceOf.keySet()) {
            if (!expected.containsKey(name)) {
                // e.g. rotary inv_freq buffers of old exports, or lm_head.weight next to tied embeddings
                LOG.warn("{}: tensor \"{}\" is not part of a LlamaForCausalLM with this config and is ignored",
                        sourceOf.get(name), name);
            }
        }
        return selected;
    }

    private static boolean hasPickleWeights(Path modelDir) {
        return Files.exists(modelDir.resolve("pytorch_model.bin"))
                || Files.exists(modelDir.resolve("pytorch_model.bin.index.json"));
    }

    /** Writes {@code config} as a config.json that transformers 4.x and 5.x load as a LlamaForCausalLM, atomically. */
    public static void writeConfig(LlamaConfig config, Path configJson) {
        AtomicFiles.writeString(configJson, config.toJson());
    }

    /** As {@link #writeConfig(LlamaConfig, Path)}, naming the weights' type ("float32", "bfloat16", ...). */
    public static void writeConfig(LlamaConfig config, Path configJson, String torchDtype) {
        AtomicFiles.writeString(configJson, config.toJson(torchDtype));
    }
}
