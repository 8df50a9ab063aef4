package ai.chunkwise.train.engine;

import ai.chunkwise.train.model.LlamaConfig;
import ai.chunkwise.train.model.LlamaModel;
import ai.chunkwise.train.model.RandomLlama;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;

import static org.junit.jupiter.api.Assertions.assertEquals;

class SecoMatchesFullTest {

    @Test
    void secoEqualsFullBackpropOnTiedGqaModel() {
        LlamaConfig config = RandomLlama.tinyTiedGqa();
        LlamaModel model = new LlamaModel(config, RandomLlama.weights(config, 1), null, DataType.DOUBLE, 2);
        Batch batch = Batch.of(RandomLlama.tokens(2, 23, config.vocabSize(), 7));
        BatchGradients full = new FullBackprop(model).compute(batch);
        BatchGradients seco = new SecoEngine(model, 7).compute(batch);
        assertEquals(full.loss(), seco.loss(), 1e-12 * full.loss());
        double worst = GradientComparison.assertAllClose(seco.gradients(), full.gradients(), 1e-12, "seco vs full");
        System.err.println("loss " + full.loss() + " worst " + worst);
    }
}
