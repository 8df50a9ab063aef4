package ai.chunkwise.train.model;


import java.util.Arrays;
import java.util.Optional;
import java.util.function.ToIntFunction;

/**
 * The seven linear projections of a Llama decoder layer, with their Hugging Face names and sizes.
 * These are also the modules LoRA can adapt.
 */
public enum LlamaProjection {
    Q_PROJ("q_proj", "self_attn", LlamaConfig::hiddenSize, LlamaConfig::queryDim),
    K_PROJ("k_proj", "self_attn", LlamaConfig::hiddenSize, LlamaConfig::keyValueDim),
    V_PROJ("v_proj", "self_attn", LlamaConfig::hiddenSize, LlamaConfig::keyValueDim),
    O_PROJ("o_proj", "self_attn", LlamaConfig::queryDim, LlamaConfig::hiddenSize),
    GATE_PROJ("gate_proj", "mlp", LlamaConfig::hiddenSize, LlamaConfig::intermediateSize),
    UP_PROJ("up_proj", "mlp", LlamaConfig::hiddenSize, LlamaConfig::intermediateSize),
    DOWN_PROJ("down_proj", "mlp", LlamaConfig::intermediateSize, LlamaConfig::hiddenSize);

    private final String moduleName;
    private final String block;
    private final ToIntFunction<LlamaConfig> in;
    private final ToIntFunction<LlamaConfig> out;

    LlamaProjection(String moduleName, String block, ToIntFunction<LlamaConfig> in, ToIntFunction<LlamaConfig> out) {
        this.moduleName = moduleName;
        this.block = block;
        this.in = in;
        this.out = out;
    }

    /** The short name PEFT's target_modules uses, e.g. "q_proj". */
    public String moduleName() {
        return moduleName;
    }

    /** The module path inside the model, e.g. "model.layers.3.self_attn.q_proj". */
    public String modulePath(int layer) {
        return "model.layers." + layer + "." + block + "." + moduleName;
    }

    /** The Hugging Face name of the weight, e.g. "model.layers.3.self_attn.q_proj.weight" ([out, in]). */
    public String weightName(int layer) {
        return modulePath(layer) + ".weight";
    }

    /** The Hugging Face name of the bias, e.g. "model.layers.3.self_attn.q_proj.bias" ([out]; Qwen2's q/k/v only). */
    public String biasName(int layer) {
        return modulePath(layer) + ".bias";
    }

    public int inFeatures(LlamaConfig config) {
        return in.applyAsInt(config);
    }

    public int outFeatures(LlamaConfig config) {
        return out.applyAsInt(config);
    }

    public static Optional<LlamaProjection> byModuleName(String name) {
        return Arrays.stream(values()).filter(p -> p.moduleName.equals(name)).findFirst();
    }
}
