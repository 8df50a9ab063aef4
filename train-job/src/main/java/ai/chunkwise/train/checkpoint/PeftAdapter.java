package ai.chunkwise.train.checkpoint;

import ai.chunkwise.train.model.LlamaProjection;
import ai.chunkwise.train.model.LoraConfig;
import ai.chunkwise.train.model.LoraWeights;
import ai.chunkwise.train.model.LlamaConfig;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A LoRA adapter in Hugging Face PEFT's format: {@code adapter_config.json} + {@code adapter_model.safetensors},
 * tensors named like {@code base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight}; lora_A is
 * [r, in] and lora_B is [out, r]. Only plain LoRA is supported (no DoRA, rsLoRA, biases, per-layer ranks).
 */
public final class PeftAdapter implements LoraWeights {
    public static final String CONFIG_FILE = "adapter_config.json";
    public static final String WEIGHTS_FILE = "adapter_model.safetensors";

    private static final Pattern LORA_NAME = Pattern.compile(
            "base_model\\.model\\.model\\.layers\\.(0|[1-9]\\d*)\\.(self_attn|mlp)\\.([a-z_]+)\\.lora_([AB])\\.weight");
    private static final ObjectMapper JSON = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private final LoraConfig config;
    private final Map<String, INDArray> tensors;
    private final int numLayers;

    private PeftAdapter(LoraConfig config, Map<String, INDArray> tensors, int numLayers) {
        this.config = config;
        this.tensors = tensors;
        this.numLayers = numLayers;
    }

    public LoraConfig config() {
        return config;
    }

    /** The A and B matrices by PEFT name, ordered by layer, then target module, A before B. */
    public Map<String, INDArray> tensors() {
        return tensors;
    }

    /** How many decoder layers the adapter covers (every layer of the model it was made for). */
    public int numLayers() {
        return numLayers;
    }

    /** The PEFT tensor name, e.g. tensorName(0, "q_proj", 'A') = base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight. */
    public static String tensorName(int layer, String module, char ab) {
        return LoraWeights.tensorName(layer, module, ab);
    }

    /** Loads an adapter; floating-point tensors become {@code floatType} (FLOAT or DOUBLE). */
    public static PeftAdapter load(Path adapterDir, DataType floatType) {
        if (!Files.isDirectory(adapterDir)) {
            throw new IllegalArgumentException("adapter directory " + adapterDir + " does not exist or is not a directory");
        }
        Path configFile = adapterDir.resolve(CONFIG_FILE);
        LoraConfig config = readConfig(configFile);
        Path weightsFile = adapterDir.resolve(WEIGHTS_FILE);
        if (!Files.isRegularFile(weightsFile)) {
            throw new IllegalArgumentException("adapter directory " + adapterDir + " has no " + WEIGHTS_FILE
                    + (Files.exists(adapterDir.resolve("adapter_model.bin"))
                    ? " (only adapter_model.bin, a pickle, which is not read: re-save with safe_serialization=True)" : ""));
        }
        LinkedHashMap<String, INDArray> raw = SafeTensors.read(weightsFile, floatType);
        return validated(config, raw, weightsFile.toString());
    }

    /** Checks that the adapter fits {@code model}: one A/B pair per layer and target, with the model's sizes. */
    public void requireCompatible(LlamaConfig model) {
        if (numLayers != model.numHiddenLayers()) {
            throw new IllegalArgumentException("LoRA adapter covers " + numLayers + " layers but the model has "
                    + model.numHiddenLayers());
        }
        for (LlamaProjection p : config.projections()) {
            checkShape(tensorName(0, p.moduleName(), 'A'), new long[] {config.rank(), p.inFeatures(model)}, "the model");
            checkShape(tensorName(0, p.moduleName(), 'B'), new long[] {p.outFeatures(model), config.rank()}, "the model");
        }
    }

    private void checkShape(String name, long[] expected, String what) {
        long[] actual = tensors.get(name).shape();
        if (!Arrays.equals(actual, expected)) {
            throw new IllegalArgumentException("LoRA tensor \"" + name + "\" has shape " + Arrays.toString(actual)
                    + " but " + what + " needs " + Arrays.toString(expected));
        }
    }

    /**
     * Writes {@code adapter_config.json} (loadable by PEFT 0.21 with PeftModel.from_pretrained) and
     * {@code adapter_model.safetensors} (float32) into {@code adapterDir}, atomically.
     */
    public static void save(Path adapterDir, LoraConfig config, Map<String, INDArray> tensors, String baseModelNameOrPath) {
        PeftAdapter checked = validated(config, tensors, "adapter to save in " + adapterDir);
        ObjectNode o = JSON.createObjectNode();
        o.put("peft_type", "LORA");
        o.put("task_type", "CAUSAL_LM");
        if (baseModelNameOrPath == null) {
            o.putNull("base_model_name_or_path");
        } else {
            o.put("base_model_name_or_path", baseModelNameOrPath);
        }
        o.putNull("revision");
        o.put("inference_mode", true);
        o.put("r", config.rank());
        if (config.alpha() == Math.rint(config.alpha()) && config.alpha() < Integer.MAX_VALUE) {
            o.put("lora_alpha", (int) config.alpha());   // PEFT declares lora_alpha an int
        } else {
            o.put("lora_alpha", config.alpha());
        }
        o.put("lora_dropout", 0.0);
        config.targetModules().forEach(o.putArray("target_modules")::add);
        o.put("bias", "none");
        o.put("fan_in_fan_out", false);
        o.put("use_rslora", false);
        o.put("use_dora", false);
        o.put("lora_bias", false);
        o.put("init_lora_weights", true);
        o.putNull("modules_to_save");
        o.putNull("layers_to_transform");
        o.putNull("layers_pattern");
        o.putObject("rank_pattern");
        o.putObject("alpha_pattern");
        o.putNull("exclude_modules");
        AtomicFiles.writeDirectory(adapterDir, tmp -> {
            AtomicFiles.writeString(tmp.resolve(CONFIG_FILE), o.toPrettyString() + "\n");
            SafeTensors.write(tmp.resolve(WEIGHTS_FILE), checked.tensors, Map.of("format", "pt"), DataType.FLOAT);
        });
    }

    /**
     * A fresh adapter as PEFT initialises one by default: A from kaiming_uniform(a=sqrt(5)), which is
     * U(-1/sqrt(in), 1/sqrt(in)), and B = 0, so the adapted model starts equal to the base model.
     * Deterministic for a given seed (java.util.SplittableRandom, layer by layer, module by module).
     */
    public static PeftAdapter init(LlamaConfig model, LoraConfig lora, long seed, DataType dt) {
        if (dt != DataType.FLOAT && dt != DataType.DOUBLE) {
            throw new IllegalArgumentException("LoRA tensors must be FLOAT or DOUBLE, got " + dt);
        }
        SplittableRandom random = new SplittableRandom(seed);
        LinkedHashMap<String, INDArray> tensors = new LinkedHashMap<>();
        for (int layer = 0; layer < model.numHiddenLayers(); layer++) {
            for (LlamaProjection p : lora.projections()) {
                int in = p.inFeatures(model);
                double bound = 1.0 / Math.sqrt(in);
                double[] a = new double[lora.rank() * in];
                for (int i = 0; i < a.length; i++) {
                    a[i] = (2 * random.nextDouble() - 1) * bound;
                }
                tensors.put(tensorName(layer, p.moduleName(), 'A'),
                        Nd4j.createFromArray(a).reshape('c', lora.rank(), in).castTo(dt));
                tensors.put(tensorName(layer, p.moduleName(), 'B'), Nd4j.zeros(dt, p.outFeatures(model), lora.rank()));
            }
        }
        return new PeftAdapter(lora, Collections.unmodifiableMap(tensors), model.numHiddenLayers());
    }

    private static LoraConfig readConfig(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("adapter config " + file + " does not exist");
        }
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException("adapter config " + file + " is not valid JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("adapter config " + file + " is not a JSON object");
        }
        String peftType = text(root, "peft_type");
        if (!"LORA".equals(peftType)) {
            throw new IllegalArgumentException("adapter config " + file + " has peft_type " + peftType
                    + ": only LORA adapters are supported");
        }
        rejectIfTrue(file, root, "use_dora", "DoRA (weight-decomposed LoRA) is not supported");
        rejectIfTrue(file, root, "use_rslora", "rank-stabilised LoRA (scaling alpha/sqrt(r)) is not supported");
        rejectIfTrue(file, root, "lora_bias", "LoRA biases are not supported");
        rejectIfTrue(file, root, "fan_in_fan_out", "fan_in_fan_out (Conv1D-style weights) does not apply to Llama");
        rejectIfTrue(file, root, "use_qalora", "QA-LoRA is not supported");
        String bias = text(root, "bias");
        if (bias != null && !bias.equals("none")) {
            throw new IllegalArgumentException("adapter config " + file + " has bias \"" + bias
                    + "\": trained biases are not supported, only \"none\"");
        }
        rejectIfNonEmpty(file, root, "modules_to_save", "fully trained extra modules are not supported");
        rejectIfNonEmpty(file, root, "rank_pattern", "per-module ranks are not supported");
        rejectIfNonEmpty(file, root, "alpha_pattern", "per-module alphas are not supported");
        rejectIfNonEmpty(file, root, "layers_to_transform", "adapting only some layers is not supported");
        rejectIfNonEmpty(file, root, "target_parameters", "LoRA on raw parameters is not supported");

        JsonNode r = root.get("r");
        if (r == null || !r.canConvertToInt() || !r.isIntegralNumber()) {
            throw new IllegalArgumentException("adapter config " + file + " has no integer \"r\" (the LoRA rank)");
        }
        JsonNode alpha = root.get("lora_alpha");
        if (alpha == null || !alpha.isNumber()) {
            throw new IllegalArgumentException("adapter config " + file + " has no numeric \"lora_alpha\"");
        }
        JsonNode targets = root.get("target_modules");
        List<String> modules = new ArrayList<>();
        if (targets != null && targets.isArray()) {
            targets.forEach(t -> modules.add(t.asText()));
        } else if (targets != null && targets.isTextual() && targets.asText().equals("all-linear")) {
            Arrays.stream(LlamaProjection.values()).forEach(p -> modules.add(p.moduleName()));
        } else {
            throw new IllegalArgumentException("adapter config " + file + " has target_modules " + targets
                    + ": expected a list of module names (a regular expression is not supported)");
        }
        // PEFT stores target_modules as a set, so its order is arbitrary; keep the model's projection order
        modules.sort((x, y) -> LlamaProjection.byModuleName(x).map(Enum::ordinal).orElse(99)
                - LlamaProjection.byModuleName(y).map(Enum::ordinal).orElse(99));
        try {
            return new LoraConfig(r.asInt(), alpha.asDouble(), modules);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("adapter config " + file + ": " + e.getMessage(), e);
        }
    }

    private static String text(JsonNode root, String key) {
        JsonNode v = root.get(key);
        return v == null || v.isNull() ? null : v.asText();
    }

    private static void rejectIfTrue(Path file, JsonNode root, String key, String why) {
        JsonNode v = root.get(key);
        if (v != null && v.asBoolean(false)) {
            throw new IllegalArgumentException("adapter config " + file + " has \"" + key + "\": true; " + why);
        }
    }

    private static void rejectIfNonEmpty(Path file, JsonNode root, String key, String why) {
        JsonNode v = root.get(key);
        if (v != null && !v.isNull() && !((v.isArray() || v.isObject()) && v.isEmpty())) {
            throw new IllegalArgumentException("adapter config " + file + " has \"" + key + "\": " + v + "; " + why);
        }
    }

    /**
     * Checks the tensor set against the LoRA config: every name is an A/B weight of a target module, every
     * layer 0..L-1 has both matrices of every target, shapes are [r, in] / [out, r] and each module's sizes
     * agree across layers. Returns the adapter with its tensors in canonical order.
     */
    private static PeftAdapter validated(LoraConfig config, Map<String, INDArray> tensors, String source) {
        TreeSet<Integer> layers = new TreeSet<>();
        for (String name : tensors.keySet()) {
            Matcher m = LORA_NAME.matcher(name);
            if (!m.matches()) {
                throw new IllegalArgumentException(source + ": tensor \"" + name + "\" is not a LoRA A/B weight of a"
                        + " Llama decoder layer (expected e.g. " + tensorName(0, "q_proj", 'A')
                        + "; embeddings, modules_to_save and biases are not supported)");
            }
            String module = m.group(3);
            if (!config.targetModules().contains(module)) {
                throw new IllegalArgumentException(source + ": tensor \"" + name + "\" adapts module \"" + module
                        + "\", which is not among the target modules " + config.targetModules());
            }
            if (!name.equals(tensorName(Integer.parseInt(m.group(1)), module, m.group(4).charAt(0)))) {
                throw new IllegalArgumentException(source + ": tensor \"" + name + "\" puts " + module + " under "
                        + m.group(2) + ", which is not where Llama has it");
            }
            layers.add(Integer.parseInt(m.group(1)));
        }
        if (layers.isEmpty()) {
            throw new IllegalArgumentException(source + " contains no LoRA tensors");
        }
        int numLayers = layers.last() + 1;
        LinkedHashMap<String, INDArray> ordered = new LinkedHashMap<>();
        Map<String, long[]> firstShapes = new HashMap<>();
        for (int layer = 0; layer < numLayers; layer++) {
            for (LlamaProjection p : config.projections()) {
                for (char ab : new char[] {'A', 'B'}) {
                    String name = tensorName(layer, p.moduleName(), ab);
                    INDArray t = tensors.get(name);
                    if (t == null) {
                        throw new IllegalArgumentException(source + " lacks LoRA tensor \"" + name + "\": every layer 0.."
                                + (numLayers - 1) + " needs lora_A and lora_B for each of " + config.targetModules());
                    }
                    checkMatrix(source, name, t, ab, config.rank());
                    String key = p.moduleName() + ab;
                    long[] first = firstShapes.putIfAbsent(key, t.shape());
                    if (first != null && !Arrays.equals(first, t.shape())) {
                        throw new IllegalArgumentException(source + ": tensor \"" + name + "\" has shape "
                                + Arrays.toString(t.shape()) + " but layer 0's has " + Arrays.toString(first));
                    }
                    ordered.put(name, t);
                }
            }
        }
        return new PeftAdapter(config, Collections.unmodifiableMap(ordered), numLayers);
    }

    private static void checkMatrix(String source, String name, INDArray t, char ab, int rank) {
        if (!t.dataType().isFPType()) {
            throw new IllegalArgumentException(source + ": tensor \"" + name + "\" has type " + t.dataType()
                    + ", a floating-point matrix is expected");
        }
        boolean ok = t.rank() == 2 && (ab == 'A' ? t.size(0) == rank : t.size(1) == rank);
        if (!ok) {
            throw new IllegalArgumentException(source + ": tensor \"" + name + "\" has shape " + Arrays.toString(t.shape())
                    + " but lora_" + ab + " must be " + (ab == 'A' ? "[r=" + rank + ", in]" : "[out, r=" + rank + "]"));
        }
    }
}
