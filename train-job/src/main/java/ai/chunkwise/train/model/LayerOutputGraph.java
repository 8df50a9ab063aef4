package ai.chunkwise.train.model;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * The second half of a Llama decoder layer, from attention's output on: o_proj and the residual, then the
 * pre-norm SwiGLU MLP and its residual (HF LlamaDecoderLayer after self_attn).
 *
 * <p>Placeholders: {@link #HIDDEN} [N, hidden] (the layer's input, the first residual), {@link #CONTEXT}
 * [B, kvHeads, nRep*T, headDim] ({@link BlockwiseAttention}'s output layout) and the layer's weights; output
 * {@link #OUT} [N, hidden], the next layer's input.
 */
final class LayerOutputGraph extends LayerGraph {
    static final String HIDDEN = "hidden";
    static final String CONTEXT = "context";
    static final String OUT = "layer_out";

    LayerOutputGraph(LlamaConfig config, LoraConfig lora, DataType dataType, int batch) {
        super(config, lora, lora == null, dataType, batch);
        int heads = config.numAttentionHeads();
        int headDim = config.headDim();
        SDVariable h = input(HIDDEN, -1, config.hiddenSize());
        SDVariable context = input(CONTEXT, batch, config.numKeyValueHeads(), -1, headDim);
        // [B, kv, nRep*T, hd] -> [B, heads, T, hd] -> [B, T, heads, hd] -> [N, heads*hd]
        SDVariable perHead = sd.permute(sd.reshape(context, batch, heads, -1, headDim), 0, 2, 1, 3);
        SDVariable attnOut = projection(sd.reshape(perHead, -1, (long) heads * headDim), LlamaProjection.O_PROJ);
        SDVariable mid = h.add(attnOut);

        SDVariable y = rmsNorm(mid, weight("post_attention_layernorm.weight", LlamaTensorLayout::postAttentionNorm,
                config.hiddenSize()));
        SDVariable gate = sd.nn.swish(projection(y, LlamaProjection.GATE_PROJ));   // silu(x) = x * sigmoid(x)
        SDVariable up = projection(y, LlamaProjection.UP_PROJ);
        SDVariable out = mid.add(projection(gate.mul(up), LlamaProjection.DOWN_PROJ));
        output(sd.identity(OUT, out), -1, config.hiddenSize());
        finish();
    }
}
