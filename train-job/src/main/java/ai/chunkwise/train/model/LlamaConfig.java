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
 * The hyper-parameters of a Llama-architecture model, as a Hugging Face {@code config.json} states them.
 *
 * @param headDim    size of one attention head (Hugging Face's default: hiddenSize / numAttentionHeads)
 * @param ropeScaling null for plain RoPE
 * @param bosTokenId -1 if the config has none
 * @param eosTokenId -1 if the config has none (the first one when it lists several)
 */
public record LlamaConfig(int vocabSize, int hiddenSize, int intermediateSize, int numHiddenLayers,
                          int numAttentionHeads, int numKeyValueHeads, int headDim, double rmsNormEps,
                          double ropeTheta, RopeScaling ropeScaling, boolean tieWordEmbeddings,
                          int maxPositionEmbeddings, int bosTokenId, int eosTokenId) {

    /** transformers' LlamaConfig defaults, used when a config.json omits these (non-shape) keys. */
    static final double DEFAULT_RMS_NORM_EPS = 1e-6;
    static final double DEFAULT_ROPE_THETA = 10000.0;
    static final int DEFAULT_MAX_POSITION_EMBEDDINGS = 2048;

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(SerializationFeature.INDENT_OUTPUT);

    public LlamaConfig {
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
        o.putArray("architectures").add("LlamaForCausalLM");
        o.put("model_type", "llama");
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
        o.put("attention_bias", false);
        o.put("mlp_bias", false);
        o.put("attention_dropout", 0.0);
        o.put("pretraining_tp", 1);
        o.put("use_cache", true);
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
            ObjectNode scaling = o.putObject("rope_scaling");
            for (ObjectNode target : new ObjectNode[] {scaling, params}) {
                target.put("rope_type", ropeScaling.ropeType());
                target.put("factor", ropeScaling.factor());
                target.put("low_freq_factor", ropeScaling.lowFreqFactor());
                target.put("high_freq_factor", ropeScaling.highFreqFactor());
                target.put("original_max_position_embeddings", ropeScaling.originalMaxPositionEmbeddings());
            }
        }
        return o.toPrettyString() + "\n";
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
            checkArchitecture();
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
                        tokenId("bos_token_id"), tokenId("eos_token_id"));
            } catch (IllegalArgumentException e) {
                if (e.getMessage().startsWith(file.toString())) {
                    throw e;
                }
                throw fail("is not a valid Llama config: " + e.getMessage());
            }
        }

        private void checkArchitecture() {
            JsonNode modelType = root.get("model_type");
            if (modelType == null || modelType.isNull()) {
                throw fail("is missing required key \"model_type\" (expected \"llama\")");
            }
            if (!"llama".equals(modelType.asText())) {
                throw fail("has model_type \"" + modelType.asText() + "\": only Llama models (\"llama\") are supported");
            }
            JsonNode architectures = root.get("architectures");
            if (architectures != null && !architectures.isNull()) {
                if (!architectures.isArray() || architectures.size() != 1
                        || !"LlamaForCausalLM".equals(architectures.get(0).asText())) {
                    throw fail("has architectures " + architectures + ": only [\"LlamaForCausalLM\"] is supported");
                }
            }
            if (optionalBoolean(root, "attention_bias", false)) {
                throw fail("has \"attention_bias\": true; biases in q/k/v/o_proj are not supported");
            }
            if (optionalBoolean(root, "mlp_bias", false)) {
                throw fail("has \"mlp_bias\": true; biases in gate/up/down_proj are not supported");
            }
            JsonNode act = root.get("hidden_act");
            // "swish" is transformers' other name for the same SiLU function
            if (act != null && !act.isNull() && !"silu".equals(act.asText()) && !"swish".equals(act.asText())) {
                throw fail("has hidden_act \"" + act.asText() + "\": only \"silu\" (SwiGLU MLP) is supported");
            }
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
            String type = present(params, "rope_type") ? params.get("rope_type").asText()
                    : present(params, "type") ? params.get("type").asText() : "default";
            if (type.equals("default")) {
                return null;
            }
            if (!type.equals(RopeScaling.LLAMA3)) {
                throw fail("uses RoPE type \"" + type + "\" (" + where + "rope_type): only \"default\" and \"llama3\" are supported");
            }
            return new RopeScaling(type, requiredDouble(params, where, "factor"),
                    requiredDouble(params, where, "low_freq_factor"), requiredDouble(params, where, "high_freq_factor"),
                    requiredInt(params, where, "original_max_position_embeddings"));
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
            return present(node, key) ? requiredDouble(node, "", key) : fallback;
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
