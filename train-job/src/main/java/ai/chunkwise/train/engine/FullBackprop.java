package ai.chunkwise.train.engine;

import ai.chunkwise.train.model.ChunkBackward;
import ai.chunkwise.train.model.KeyValues;
import ai.chunkwise.train.model.LlamaModel;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.LinkedHashMap;
import java.util.Map;

/** Plain back-propagation of the whole sequence as one chunk with no past: the baseline and test oracle. */
public final class FullBackprop implements GradientEngine {
    private final LlamaModel model;

    public FullBackprop(LlamaModel model) {
        this.model = model;
    }

    @Override
    public BatchGradients compute(Batch batch, long seed) {
        SequenceLayout layout = new SequenceLayout(batch);
        Map<String, INDArray> grads = new LinkedHashMap<>();
        ChunkBackward back = model.backward(layout.chunk(0, batch.length(), 0, 1.0),
                KeyValues.empty(model.config(), batch.rows(), model.dataType()), null, grads);
        Map<String, INDArray> ordered = new LinkedHashMap<>();
        model.trainableParameters().keySet().forEach(name -> ordered.put(name, grads.get(name)));
        return new BatchGradients(back.loss(), ordered, layout.predictedTokens(), 1, 1);
    }
}
