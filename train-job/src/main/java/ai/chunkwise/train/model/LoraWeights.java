package ai.chunkwise.train.model;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Map;

/**
 * The LoRA matrices a {@link LlamaModel} trains (base weights frozen), named as PEFT names them (the names of
 * the model's trainable parameters and of the gradients). The file format that holds them lives in
 * {@code ai.chunkwise.train.checkpoint.PeftAdapter}, which implements this.
 */
public interface LoraWeights {
    /** PEFT's prefix of a wrapped model's module paths. */
    String PEFT_PREFIX = "base_model.model.";

    LoraConfig config();

    /** PEFT name (see {@link #tensorName}) -> lora_A [r, in] or lora_B [out, r]. */
    Map<String, INDArray> tensors();

    /** Fails, naming the tensor, unless every adapted projection's A and B fit {@code model}'s shapes. */
    void requireCompatible(LlamaConfig model);

    /** The PEFT tensor name, e.g. tensorName(0, "q_proj", 'A') = base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight. */
    static String tensorName(int layer, String module, char ab) {
        LlamaProjection p = LlamaProjection.byModuleName(module).orElseThrow(() ->
                new IllegalArgumentException("\"" + module + "\" is not a Llama projection (q_proj ... down_proj)"));
        if (ab != 'A' && ab != 'B') {
            throw new IllegalArgumentException("LoRA matrix must be 'A' or 'B', got '" + ab + "'");
        }
        if (layer < 0) {
            throw new IllegalArgumentException("layer must be >= 0, got " + layer);
        }
        return PEFT_PREFIX + p.modulePath(layer) + ".lora_" + ab + ".weight";
    }
}
