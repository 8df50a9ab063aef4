package ai.chunkwise.train.checkpoint;

import ai.chunkwise.train.model.LlamaConfig;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes a model directory that transformers' {@code AutoModelForCausalLM} and {@code AutoTokenizer} load as it is:
 * {@code config.json} (its {@code torch_dtype} the stored type), the weights in one {@code model.safetensors} or, above
 * the shard size, in {@code model-0000i-of-0000n.safetensors} shards listed by {@code model.safetensors.index.json}
 * (as {@code save_pretrained} splits them: tensors in order, a new shard when the next would cross the size),
 * {@code generation_config.json} and the tokenizer files. Writes into an existing directory that the caller
 * publishes atomically.
 */
public final class HfModelWriter {
    public static final String GENERATION_CONFIG_FILE = "generation_config.json";
    /** The files transformers' AutoTokenizer reads, copied when the source has them. */
    public static final List<String> TOKENIZER_FILES = List.of("tokenizer.json", "tokenizer_config.json",
            "special_tokens_map.json", "tokenizer.model", "added_tokens.json");

    private static final ObjectMapper JSON = new ObjectMapper();

    private HfModelWriter() {
    }

    /**
     * Writes config.json, the weights (stored as {@code export.storeAs(trainingType)}), generation_config.json and
     * the tokenizer files into {@code dir}. {@code weights} are in checkpoint order.
     */
    public static void write(Path dir, LlamaConfig config, Map<String, INDArray> weights, DataType trainingType,
                             ModelExport export) throws IOException {
        DataType storeAs = export.storeAs(trainingType);
        HfCheckpoint.writeConfig(config, dir.resolve(HfCheckpoint.CONFIG_FILE), ModelExport.torchName(storeAs));
        writeWeights(dir, weights, storeAs, export.maxShardBytes());
        writeGenerationConfig(dir, config, export.sourceModel());
        copyTokenizerFiles(export.tokenizerDir(), dir);
    }

    /** The weights as one file, or as shards of at most {@code maxShardBytes} (one larger tensor: its own shard). */
    static void writeWeights(Path dir, Map<String, INDArray> weights, DataType storeAs, long maxShardBytes)
            throws IOException {
        int width = storeAs == DataType.DOUBLE ? 8 : storeAs == DataType.FLOAT ? 4 : 2;
        List<LinkedHashMap<String, INDArray>> shards = new ArrayList<>();
        LinkedHashMap<String, INDArray> current = new LinkedHashMap<>();
        long currentBytes = 0;
        long totalBytes = 0;
        for (Map.Entry<String, INDArray> e : weights.entrySet()) {
            long bytes = e.getValue().length() * width;
            if (!current.isEmpty() && currentBytes + bytes > maxShardBytes) {
                shards.add(current);
                current = new LinkedHashMap<>();
                currentBytes = 0;
            }
            current.put(e.getKey(), e.getValue());
            currentBytes += bytes;
            totalBytes += bytes;
        }
        shards.add(current);
        Map<String, String> meta = Map.of("format", "pt");
        if (shards.size() == 1) {
            SafeTensors.write(dir.resolve(HfCheckpoint.WEIGHTS_FILE), shards.get(0), meta, storeAs);
            return;
        }
        TreeMap<String, String> weightMap = new TreeMap<>();
        for (int i = 0; i < shards.size(); i++) {
            String name = String.format(Locale.ROOT, "model-%05d-of-%05d.safetensors", i + 1, shards.size());
            SafeTensors.write(dir.resolve(name), shards.get(i), meta, storeAs);
            shards.get(i).keySet().forEach(t -> weightMap.put(t, name));
        }
        ObjectNode index = JSON.createObjectNode();
        index.putObject("metadata").put("total_size", totalBytes);
        ObjectNode map = index.putObject("weight_map");
        weightMap.forEach(map::put);
        AtomicFiles.writeString(dir.resolve(HfCheckpoint.INDEX_FILE), index.toPrettyString() + "\n");
    }

    /**
     * The source model's generation_config.json when it has one (it may list several EOS ids, which config.json
     * here keeps only the first of), else one made from config.json's BOS/EOS, as transformers makes it.
     */
    static void writeGenerationConfig(Path dir, LlamaConfig config, Path sourceModel) throws IOException {
        Path source = sourceModel == null ? null : sourceModel.resolve(GENERATION_CONFIG_FILE);
        if (source != null && Files.isRegularFile(source)) {
            Files.copy(source, dir.resolve(GENERATION_CONFIG_FILE), StandardCopyOption.REPLACE_EXISTING);
            return;
        }
        ObjectNode g = JSON.createObjectNode();
        g.put("_from_model_config", true);
        if (config.bosTokenId() >= 0) {
            g.put("bos_token_id", config.bosTokenId());
        }
        if (config.eosTokenId() >= 0) {
            g.put("eos_token_id", config.eosTokenId());
        }
        AtomicFiles.writeString(dir.resolve(GENERATION_CONFIG_FILE), g.toPrettyString() + "\n");
    }

    /** Copies whichever of {@link #TOKENIZER_FILES} {@code from} holds (nothing when {@code from} is null). */
    public static void copyTokenizerFiles(Path from, Path to) {
        if (from == null) {
            return;
        }
        for (String name : TOKENIZER_FILES) {
            Path f = from.resolve(name);
            if (Files.isRegularFile(f)) {
                try {
                    Files.copy(f, to.resolve(name), StandardCopyOption.REPLACE_EXISTING);
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot copy tokenizer file " + f + " to " + to + ": " + e.getMessage(), e);
                }
            }
        }
    }
}
