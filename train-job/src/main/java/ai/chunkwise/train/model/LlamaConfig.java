package ai.chunkwise.train.model;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;

/**
 * The hyper-parameters of a Llama-architecture model (Llama, Mistral, Qwen2/2.5, Qwen3: see {@link ModelFamily}),
 * as a Hugging Face {@code config.json} states them.
 *
 * @param headDim       size of one attention head (Hugging Face's default: hiddenSize / numAttentionHeads)
 * @param ropeScaling   null for plain RoPE
 * @param bosTokenId    -1 if the config has none
 * @param eosTokenId    -1 if the config has none (the first one when it lists several)
 * @param family        which decoder family: decides q/k/v biases, q/k norms and the config keys written back
 * @param slidingWindow Mistral's attention window (a query sees itself and the window-1 positions before it);
 *                      0 for none
 */
public record LlamaConfig(int vocabSize, int hiddenSize, int intermediateSize, int numHiddenLayers,
                          int numAttentionHeads, int numKeyValueHeads, int headDim, double rmsNormEps,
                          double ropeTheta, RopeScaling ropeScaling, boolean tieWordEmbeddings,
                          int maxPositionEmbeddings, int bosTokenId, int eosTokenId, ModelFamily family,
                          int slidingWindow) {

    /** transformers' LlamaConfig defaults, used when a config.json omits these (non-shape) keys. */
    static final double DEFAULT_RMS_NORM_EPS = 1e-6;
    static final double DEFAULT_ROPE_THETA = 10000.0;
    static final int DEFAULT_MAX_POSITION_EMBEDDINGS = 2048;
    /** transformers' MistralConfig.sliding_window default, used when a Mistral config.json has no such key. */
    static final int MISTRAL_DEFAULT_SLIDING_WINDOW = 4096;

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(SerializationFeature.INDENT_OUTPUT);

    /** A Llama (no window). */
    public LlamaConfig(int vocabSize, int hiddenSize, int intermediateSize, int numHiddenLayers,
                       int numAttentionHeads, int numKeyValueHeads, int headDim, double rmsNormEps,
                       double ropeTheta, RopeScaling ropeScaling, boolean tieWordEmbeddings,
                       int maxPositionEmbeddings, int bosTokenId, int eosTokenId) {
        this(vocabSize, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads, numKeyValueHeads, headDim,
                rmsNormEps, ropeTheta, ropeScaling, tieWordEmbeddings, maxPositionEmbeddings, bosTokenId, eosTokenId,
                ModelFamily.LLAMA, 0);
    }

    public LlamaConfig {
        if (family == null) {
            throw new IllegalArgumentException("model family must be given (llama, mistral, qwen2, qwen3)");
        }
        if (slidingWindow < 0) {
            throw new IllegalArgumentException("sliding_window must be positive (or absent), got " + slidingWindow);
        }
        if (slidingWindow > 0 && family != ModelFamily.MISTRAL) {
            throw new IllegalArgumentException("a sliding attention window is implemented for Mistral only, not "
                    + family.modelType());
        }
        positive("vocab_size", vocabSize);
        positive("hidden_size", hiddenSize);
        positive("intermediate_size", intermediateSize);
        positive("num_hidden_layers", numHiddenLayers);
        positive("num_attention_heads", numAttentionHeads);
        positive("num_key_value_heads", numKeyValueHeads);
        positive("head_dim", headDim);
        positive("max_position_embeddings", maxPositionEmbeddings);
        try {
            Math.multiplyExact(numAttentionHeads, headDim);   // q_proj's width must be an int (array dimension)
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("num_attention_heads (" + numAttentionHeads + ") x head_dim (" + headDim
                    + ") exceeds 2^31: no such model can be built; use realistic sizes");
        }
        if (numAttentionHeads % numKeyValueHeads != 0) {
            throw new IllegalArgumentException("num_attention_heads (" + numAttentionHeads
                    + ") must be a multiple of num_key_value_heads (" + numKeyValueHeads + ") for grouped-query attention");
        }
        if (!(rmsNormEps > 0) || Double.isInfinite(rmsNormEps)) {
            throw new IllegalArgumentException("rms_norm_eps must be a positive number, got " + rmsNormEps);
        }
        if (!(ropeTheta > 0) || Double.isInfinite(ropeTheta)) {
            throw new IllegalArgumentException("rope_theta must be a positive number, got " + ropeTheta);
        }
        if (bosTokenId < -1 || bosTokenId >= vocabSize || eosTokenId < -1 || eosTokenId >= vocabSize) {
            throw new IllegalArgumentException("bos_token_id " + bosTokenId + " / eos_token_id " + eosTokenId
                    + " must be token ids below vocab_size " + vocabSize + " (or absent)");
        }
    }

    /** Width of all query heads together: the output size of q_proj. */
    public int queryDim() {
        return numAttentionHeads * headDim;
    }

    /** Width of all key (or value) heads together: the output size of k_proj and v_proj. */
    public int keyValueDim() {
        return numKeyValueHeads * headDim;
    }

    /** Whether attention is limited to a sliding window ({@link #slidingWindow()} positions, the query's own included). */
    public boolean hasSlidingWindow() {
        return slidingWindow > 0;
    }

    /**
     * A warning when training sequences of {@code sequenceLength} tokens are longer than the model was made for
     * (max_position_embeddings, or what its RoPE scaling extends it to): the positions beyond were never trained
     * and RoPE extrapolates there. Null when they fit.
     */
    public String contextWarning(long sequenceLength) {
        long limit = ropeScaling == null ? maxPositionEmbeddings : ropeScaling.contextLength(maxPositionEmbeddings);
        if (sequenceLength <= limit) {
            return null;
        }
        return "training sequences of " + sequenceLength + " tokens are longer than the " + limit + " positions this "
                + family.modelType() + " model was trained for (max_position_embeddings " + maxPositionEmbeddings
                + (ropeScaling == null ? "" : ", " + ropeScaling.ropeType() + " RoPE scaling") + "): positions beyond "
                + limit + " extrapolate RoPE; add a rope_scaling (e.g. yarn) to config.json or train shorter sequences"
                + " if this is not intended";
    }

    /**
     * Reads a transformers config.json, in the 4.x form (top-level rope_theta, rope_scaling) or the 5.x form
     * (rope_parameters). Errors name the file and the key.
     */
    public static LlamaConfig fromJson(Path configJson) {
        JsonNode root;
        try {
            root = JSON.readTree(configJson.toFile());
        } catch (IOException e) {
            if (!configJson.toFile().exists()) {
                throw new UncheckedIOException(new NoSuchFileException(configJson + " does not exist: a Hugging Face"
                        + " model directory needs a config.json"));
            }
            // Jackson's original message: its full message adds a multi-line source excerpt
            String why = e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage()
                    : e.getMessage();
            throw new IllegalArgumentException(configJson + " is not valid JSON: " + why, e);
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException(configJson + " is not a JSON object");
        }
        return new ConfigReader(configJson, root).read();
    }

    /** Reads a config.json's text, e.g. one sent to another machine; {@code origin} names it in errors. */
    public static LlamaConfig fromJsonText(String text, String origin) {
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (IOException e) {
            throw new IllegalArgumentException(origin + " is not valid JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException(origin + " is not a JSON object");
        }
        return new ConfigReader(Path.of(origin), root).read();
    }

    /**
     * The text of a config.json that transformers 4.x and 5.x both load as a LlamaForCausalLM, weights in float32
     * ({@code HfCheckpoint.writeConfig} writes it to a file, atomically).
     */
    public String toJson() {
        return toJson("float32");
    }

    /** As {@link #toJson()}, naming the weights' type ("float32", "bfloat16", "float16", "float64"). */
    public String toJson(String torchDtype) {
        ObjectNode o = JSON.createObjectNode();
        o.putArray("architectures").add(family.architecture());
        o.put("model_type", family.modelType());
        o.put("vocab_size", vocabSize);
        o.put("hidden_size", hiddenSize);
        o.put("intermediate_size", intermediateSize);
        o.put("num_hidden_layers", numHiddenLayers);
        o.put("num_attention_heads", numAttentionHeads);
        o.put("num_key_value_heads", numKeyValueHeads);
        o.put("head_dim", headDim);
        o.put("hidden_act", "silu");
        o.put("rms_norm_eps", rmsNormEps);
        o.put("max_position_embeddings", maxPositionEmbeddings);
        o.put("tie_word_embeddings", tieWordEmbeddings);
        o.put("attention_dropout", 0.0);
        o.put("use_cache", true);
        putFamilyKeys(o);
        putTokenId(o, "bos_token_id", bosTokenId);
        putTokenId(o, "eos_token_id", eosTokenId);
        o.put("torch_dtype", torchDtype);   // transformers 4.x spelling
        o.put("dtype", torchDtype);         // transformers 5.x spelling
        // Both RoPE spellings, with the same values: 4.x reads rope_theta + rope_scaling and ignores
        // rope_parameters; 5.x takes rope_scaling when it is set, else rope_parameters.
        o.put("rope_theta", ropeTheta);
        ObjectNode params = o.putObject("rope_parameters");
        params.put("rope_theta", ropeTheta);
        if (ropeScaling == null) {
            o.putNull("rope_scaling");
            params.put("rope_type", "default");
        } else {
            putRopeScaling(o.putObject("rope_scaling"));
            putRopeScaling(params);
        }
        return o.toPrettyString() + "\n";
    }

    /** The keys only some families' configs have, as transformers writes them. */
    private void putFamilyKeys(ObjectNode o) {
        switch (family) {
            case LLAMA -> {
                o.put("attention_bias", false);
                o.put("mlp_bias", false);
                o.put("pretraining_tp", 1);
            }
            case MISTRAL -> {
                if (slidingWindow > 0) {
                    o.put("sliding_window", slidingWindow);
                } else {
                    o.putNull("sliding_window");
                }
            }
            case QWEN2 -> {
                // q/k/v biases are implied by the architecture; no key states them
                o.put("use_sliding_window", false);
                o.putNull("sliding_window");
                o.put("max_window_layers", numHiddenLayers);
            }
            case QWEN3 -> {
                o.put("attention_bias", false);
                o.put("use_sliding_window", false);
                o.putNull("sliding_window");
                o.put("max_window_layers", numHiddenLayers);
            }
        }
    }

    private void putRopeScaling(ObjectNode target) {
        target.put("rope_type", ropeScaling.ropeType());
        if (ropeScaling instanceof RopeScaling.Linear l) {
            target.put("factor", l.factor());
        } else if (ropeScaling instanceof RopeScaling.Dynamic d) {
            target.put("factor", d.factor());
        } else if (ropeScaling instanceof RopeScaling.Yarn y) {
            target.put("factor", y.factor());
            target.put("original_max_position_embeddings", y.originalMaxPositionEmbeddings());
            if (!Double.isNaN(y.attentionFactor())) {
                target.put("attention_factor", y.attentionFactor());
            }
            target.put("beta_fast", y.betaFast());
            target.put("beta_slow", y.betaSlow());
            if (!Double.isNaN(y.mscale())) {
                target.put("mscale", y.mscale());
            }
            if (!Double.isNaN(y.mscaleAllDim())) {
                target.put("mscale_all_dim", y.mscaleAllDim());
            }
            if (!y.truncate()) {
                target.put("truncate", false);
            }
        } else if (ropeScaling instanceof RopeScaling.Llama3 l) {
            target.put("factor", l.factor());
            target.put("low_freq_factor", l.lowFreqFactor());
            target.put("high_freq_factor", l.highFreqFactor());
            target.put("original_max_position_embeddings", l.originalMaxPositionEmbeddings());
        }
    }

    private static void putTokenId(ObjectNode o, String key, int id) {
        if (id < 0) {
            o.putNull(key);
        } else {
            o.put(key, id);
        }
    }

    private static void positive(String key, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(key + " must be positive, got " + value);
        }
    }

    /** Reads and checks one config.json; every message names the file and the key. */
    private record ConfigReader(Path file, JsonNode root) {
        LlamaConfig read() {
            ModelFamily family = checkArchitecture();
            refuseQuantized();
            refuseChangedMath(family);
            int hidden = requiredInt(root, "hidden_size");
            int heads = requiredInt(root, "num_attention_heads");
            int kvHeads = optionalInt(root, "num_key_value_heads", heads);
            int headDim;
            if (present(root, "head_dim")) {
                headDim = requiredInt(root, "head_dim");
            } else if (heads > 0 && hidden % heads == 0) {
                headDim = hidden / heads;
            } else {
                throw fail("has no \"head_dim\" and hidden_size " + hidden + " is not divisible by num_attention_heads " + heads);
            }
            if (heads > 0 && kvHeads > 0 && heads % kvHeads != 0) {
                throw fail("has num_attention_heads " + heads + " that is not a multiple of num_key_value_heads " + kvHeads);
            }
            try {
                return new LlamaConfig(
                        requiredInt(root, "vocab_size"), hidden, requiredInt(root, "intermediate_size"),
                        requiredInt(root, "num_hidden_layers"), heads, kvHeads, headDim,
                        optionalDouble(root, "rms_norm_eps", DEFAULT_RMS_NORM_EPS),
                        ropeTheta(), ropeScaling(),
                        optionalBoolean(root, "tie_word_embeddings", false),
                        optionalInt(root, "max_position_embeddings", DEFAULT_MAX_POSITION_EMBEDDINGS),
                        tokenId("bos_token_id"), tokenId("eos_token_id"), family, slidingWindow(family));
            } catch (IllegalArgumentException e) {
                if (e.getMessage().startsWith(file.toString())) {
                    throw e;
                }
                throw fail("is not a valid " + family.architecture() + " config: " + e.getMessage());
            }
        }

        /** The family named by model_type (and architectures, when given); other models are refused, saying why. */
        private ModelFamily checkArchitecture() {
            JsonNode modelType = root.get("model_type");
            if (modelType == null || modelType.isNull()) {
                throw fail("is missing required key \"model_type\" (expected one of " + supportedTypes() + ")");
            }
            String type = modelType.asText();
            if (type.startsWith("gemma")) {
                throw fail("has model_type \"" + type + "\": Gemma models are not supported; they differ from the"
                        + " supported decoders in their embedding scale (sqrt(hidden_size)), GeGLU MLP, (1 + w) RMSNorm"
                        + " weights and, from Gemma 2 on, logit soft-capping and alternating local/global attention layers,"
                        + " none of which Chunkwise implements. Supported: " + supportedTypes());
            }
            ModelFamily family = ModelFamily.byModelType(type).orElseThrow(() -> fail("has model_type \"" + type
                    + "\": only " + supportedTypes() + " models are supported"));
            JsonNode architectures = root.get("architectures");
            if (architectures != null && !architectures.isNull()) {
                if (!architectures.isArray() || architectures.size() != 1
                        || !family.architecture().equals(architectures.get(0).asText())) {
                    throw fail("has architectures " + architectures + ": for model_type \"" + type + "\" only [\""
                            + family.architecture() + "\"] is supported");
                }
            }
            if (family == ModelFamily.LLAMA || family == ModelFamily.QWEN3 || family == ModelFamily.MISTRAL) {
                if (optionalBoolean(root, "attention_bias", false)) {
                    throw fail("has \"attention_bias\": true; biases in q/k/v/o_proj are not supported for "
                            + family.modelType() + " (Qwen2's q/k/v biases are)");
                }
            }
            if (optionalBoolean(root, "mlp_bias", false)) {
                throw fail("has \"mlp_bias\": true; biases in gate/up/down_proj are not supported");
            }
            JsonNode act = root.get("hidden_act");
            // "swish" is transformers' other name for the same SiLU function
            if (act != null && !act.isNull() && !"silu".equals(act.asText()) && !"swish".equals(act.asText())) {
                throw fail("has hidden_act \"" + act.asText() + "\": only \"silu\" (SwiGLU MLP) is supported");
            }
            return family;
        }

        private static String supportedTypes() {
            return java.util.Arrays.stream(ModelFamily.values()).map(f -> "\"" + f.modelType() + "\"")
                    .collect(java.util.stream.Collectors.joining(", "));
        }

        /**
         * bitsandbytes, GPTQ, AWQ, FP8 (and every other transformers quantizer) record themselves in
         * quantization_config; their weights are packed integers or 8-bit floats that Chunkwise cannot train.
         */
        private void refuseQuantized() {
            JsonNode q = root.get("quantization_config");
            if (q == null || q.isNull()) {
                return;
            }
            String method = q.path("quant_method").asText(q.path("load_in_4bit").asBoolean() ? "bitsandbytes 4-bit"
                    : q.path("load_in_8bit").asBoolean() ? "bitsandbytes 8-bit" : "unknown");
            throw fail("describes a quantized checkpoint (quantization_config, quant_method \"" + method + "\"):"
                    + " Chunkwise trains bf16/float16/float32 weights, not packed 4-/8-bit ones. Dequantize to bf16 first"
                    + " (e.g. with transformers: load it, call model.dequantize() where the quantizer supports it, and"
                    + " save_pretrained with dtype=torch.bfloat16), or start from the original unquantized checkpoint");
        }

        /** Settings that change the math and that Chunkwise does not implement: refused rather than ignored. */
        private void refuseChangedMath(ModelFamily family) {
            if (present(root, "attention_dropout") && requiredDouble(root, "", "attention_dropout") != 0.0) {
                throw fail("has \"attention_dropout\": " + root.get("attention_dropout") + "; attention dropout is not"
                        + " implemented (SeCO recomputes each chunk and would need the same dropout mask). Set it to 0.0"
                        + " (the value all supported pre-trained checkpoints ship with) to train without dropout");
            }
            if (present(root, "partial_rotary_factor") && requiredDouble(root, "", "partial_rotary_factor") != 1.0) {
                throw fail("has \"partial_rotary_factor\" " + root.get("partial_rotary_factor")
                        + ": only RoPE over the whole head (1.0) is supported");
            }
            if (family == ModelFamily.QWEN2 || family == ModelFamily.QWEN3) {
                boolean sliding = optionalBoolean(root, "use_sliding_window", false);
                JsonNode layerTypes = root.get("layer_types");
                if (layerTypes != null && layerTypes.isArray()) {
                    for (JsonNode t : layerTypes) {
                        sliding |= "sliding_attention".equals(t.asText());
                    }
                }
                if (sliding) {
                    throw fail("has \"use_sliding_window\": true (or sliding_attention layers): " + family.modelType()
                            + "'s per-layer sliding window is not implemented; set \"use_sliding_window\": false (the"
                            + " released Qwen2/2.5/3 checkpoints all do) to train with full attention");
                }
            }
        }

        /**
         * Mistral's sliding_window: null = none, absent = transformers' MistralConfig default 4096 (what a config
         * without the key gets there too); other families' windows are refused or off.
         */
        private int slidingWindow(ModelFamily family) {
            if (family != ModelFamily.MISTRAL) {
                return 0;
            }
            if (!root.has("sliding_window")) {
                return MISTRAL_DEFAULT_SLIDING_WINDOW;
            }
            if (root.get("sliding_window").isNull()) {
                return 0;
            }
            int window = requiredInt(root, "sliding_window");
            if (window <= 0) {
                throw fail("has \"sliding_window\": " + window + "; it must be a positive number of positions or null");
            }
            return window;
        }

        /**
         * The object holding the RoPE settings and its key, with transformers 5.x semantics: the legacy
         * rope_scaling (if set) wins over rope_parameters.
         */
        private Map.Entry<String, JsonNode> ropeParameters() {
            for (String key : new String[] {"rope_scaling", "rope_parameters"}) {
                JsonNode node = root.get(key);
                if (node != null && !node.isNull()) {
                    if (!node.isObject()) {
                        throw fail("has \"" + key + "\" that is not a JSON object");
                    }
                    return Map.entry(key + ".", node);
                }
            }
            return Map.entry("", JSON.createObjectNode());
        }

        private double ropeTheta() {
            Map.Entry<String, JsonNode> params = ropeParameters();
            if (present(params.getValue(), "rope_theta")) {
                return requiredDouble(params.getValue(), params.getKey(), "rope_theta");
            }
            return optionalDouble(root, "rope_theta", DEFAULT_ROPE_THETA);
        }

        private RopeScaling ropeScaling() {
            String where = ropeParameters().getKey();
            JsonNode params = ropeParameters().getValue();
            String type;
            if (present(params, "rope_type")) {
                type = params.get("rope_type").asText();
            } else if (present(params, "type")) {
                type = params.get("type").asText();
            } else if (where.equals("rope_scaling.")) {
                // transformers would silently treat it as plain RoPE, which changes a scaled model's positions
                throw fail("has a \"rope_scaling\" object without \"rope_type\" (or \"type\"): say which scaling it is"
                        + " (linear, dynamic, yarn, llama3), or set \"rope_scaling\": null for plain RoPE");
            } else {
                type = "default";
            }
            if (present(params, "partial_rotary_factor") && requiredDouble(params, where, "partial_rotary_factor") != 1.0) {
                throw fail("has \"" + where + "partial_rotary_factor\": only RoPE over the whole head (1.0) is supported");
            }
            switch (type) {
                case "default":
                    return null;
                case "linear":
                    return new RopeScaling.Linear(requiredDouble(params, where, "factor"));
                case "dynamic":
                    return new RopeScaling.Dynamic(requiredDouble(params, where, "factor"));
                case "yarn":
                    return yarn(where, params);
                case "llama3":
                    return new RopeScaling.Llama3(requiredDouble(params, where, "factor"),
                            requiredDouble(params, where, "low_freq_factor"), requiredDouble(params, where, "high_freq_factor"),
                            requiredInt(params, where, "original_max_position_embeddings"));
                default:
                    throw fail("uses RoPE type \"" + type + "\" (" + where + "rope_type): supported are \"default\","
                            + " \"linear\", \"dynamic\", \"yarn\" and \"llama3\"" + (type.equals("longrope")
                            ? " (longrope, Phi-3's scaling, is not implemented)" : ""));
            }
        }

        /** transformers' yarn defaults: original context = max_position_embeddings, betas 32/1, truncate. */
        private RopeScaling.Yarn yarn(String where, JsonNode params) {
            int original = present(params, "original_max_position_embeddings")
                    ? requiredInt(params, where, "original_max_position_embeddings")
                    : optionalInt(root, "max_position_embeddings", DEFAULT_MAX_POSITION_EMBEDDINGS);
            double factor = present(params, "factor") ? requiredDouble(params, where, "factor")
                    : (double) optionalInt(root, "max_position_embeddings", DEFAULT_MAX_POSITION_EMBEDDINGS) / original;
            return new RopeScaling.Yarn(factor, original, optionalDouble(params, where, "attention_factor", Double.NaN),
                    optionalDouble(params, where, "beta_fast", 32), optionalDouble(params, where, "beta_slow", 1),
                    optionalDouble(params, where, "mscale", Double.NaN),
                    optionalDouble(params, where, "mscale_all_dim", Double.NaN),
                    optionalBoolean(params, "truncate", true));
        }

        private int tokenId(String key) {
            JsonNode v = root.get(key);
            if (v == null || v.isNull()) {
                return -1;
            }
            if (v.isArray()) {
                if (v.isEmpty()) {
                    return -1;
                }
                v = v.get(0);   // several end-of-sequence ids (Llama 3 instruct): the first is the canonical one
            }
            if (!v.isIntegralNumber() || !v.canConvertToInt()) {
                throw fail("has \"" + key + "\" " + root.get(key) + " that is not a token id");
            }
            return v.asInt();
        }

        private boolean present(JsonNode node, String key) {
            return node.has(key) && !node.get(key).isNull();
        }

        private int requiredInt(JsonNode node, String key) {
            return requiredInt(node, "", key);
        }

        /** {@code where} is the key path of {@code node} ("" for the top level, "rope_scaling." ...). */
        private int requiredInt(JsonNode node, String where, String key) {
            if (!present(node, key)) {
                throw fail("is missing required key \"" + where + key + "\"");
            }
            JsonNode v = node.get(key);
            // some configs on the Hub store integers as 4096.0
            if (v.isNumber() && v.canConvertToInt() && v.asDouble() == Math.rint(v.asDouble())) {
                return (int) v.asDouble();
            }
            throw fail("has \"" + where + key + "\": " + v + ", which is not an integer");
        }

        private int optionalInt(JsonNode node, String key, int fallback) {
            return present(node, key) ? requiredInt(node, key) : fallback;
        }

        private double requiredDouble(JsonNode node, String where, String key) {
            if (!present(node, key)) {
                throw fail("is missing required key \"" + where + key + "\"");
            }
            JsonNode v = node.get(key);
            if (!v.isNumber()) {
                throw fail("has \"" + where + key + "\": " + v + ", which is not a number");
            }
            return v.asDouble();
        }

        private double optionalDouble(JsonNode node, String key, double fallback) {
            return optionalDouble(node, "", key, fallback);
        }

        private double optionalDouble(JsonNode node, String where, String key, double fallback) {
            return present(node, key) ? requiredDouble(node, where, key) : fallback;
        }

        private boolean optionalBoolean(JsonNode node, String key, boolean fallback) {
            if (!present(node, key)) {
                return fallback;
            }
            JsonNode v = node.get(key);
            if (!v.isBoolean()) {
                throw fail("has \"" + key + "\": " + v + ", which is not true/false");
            }
            return v.asBoolean();
        }

        private IllegalArgumentException fail(String what) {
            return new IllegalArgumentException(file + " " + what);
        }
    }
}
