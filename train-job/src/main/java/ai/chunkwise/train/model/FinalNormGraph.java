package ai.chunkwise.train.model;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.api.buffer.DataType;

/** The model's final RMSNorm (model.norm), between the last layer and the LM head. */
final class FinalNormGraph extends LayerGraph {
    static final String HIDDEN = "hidden";
    static final String NORMED = "normed";

    FinalNormGraph(LlamaConfig config, boolean trainable, DataType dataType, int batch) {
        super(config, null, trainable, dataType, batch);
        SDVariable h = input(HIDDEN, -1, config.hiddenSize());
        SDVariable w = weight("norm.weight", layer -> LlamaTensorLayout.FINAL_NORM, config.hiddenSize());
        output(sd.identity(NORMED, rmsNorm(h, w)), -1, config.hiddenSize());
        finish();
    }

}
