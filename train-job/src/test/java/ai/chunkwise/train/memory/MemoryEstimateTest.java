package ai.chunkwise.train.memory;

import ai.chunkwise.train.data.TinyDatasets;
import ai.chunkwise.train.loop.RandomInit;
import ai.chunkwise.train.model.LlamaConfig;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 9, finding 4: the estimate counts what a run needs (a run refusing it: ImpossibleSizesTest). */
class MemoryEstimateTest {

    @Test
    void parameterCountMatchesTheWeightsActuallyBuilt() {
        LlamaConfig tiny = TinyDatasets.tinyModel();
        long built = 0;
        for (INDArray w : RandomInit.weights(tiny, 0, 0.02, DataType.FLOAT).values()) {
            built += w.length();
        }
        assertEquals(built, MemoryEstimate.of(tiny, null, 4, 1, 16, 8, false).parameters());
    }

    @Test
    void llama3With8BParametersIsCountedAsMetaPublishesIt() {
        // Meta-Llama-3-8B: 8,030,261,248 parameters (the model card's figure)
        LlamaConfig l3 = new LlamaConfig(128256, 4096, 14336, 32, 32, 8, 128, 1e-5, 500000.0, null, false, 8192, 1, 2);
        MemoryEstimate e = MemoryEstimate.of(l3, null, 4, 1, 8192, 1024, false);
        assertEquals(8_030_261_248L, e.parameters());
        assertEquals(8_030_261_248L * 4, e.weightBytes());
        // K/V cache of 32 layers x (k, v) x 8192 tokens x 1024 wide x 4 bytes, doubled for their gradients
        assertEquals(2L * 32 * 2 * 8192 * 1024 * 4, e.kvCacheBytes());
    }

    @Test
    void sizesBeyond2To63BytesAreReportedNotOverflowed() {
        LlamaConfig huge = new LlamaConfig(Integer.MAX_VALUE, 1 << 30, 1 << 30, Integer.MAX_VALUE, 1, 1, 1 << 30,
                1e-5, 10000.0, null, false, 2048, -1, -1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MemoryEstimate.require("huge",
                () -> MemoryEstimate.of(huge, null, 4, 1, 1 << 20, 1024, false), 1L << 40));
        assertTrue(e.getMessage().contains("8 EiB"), e.getMessage());
    }

    @Test
    void aConfigThatFitsPasses() {
        MemoryEstimate.require("tiny", () -> MemoryEstimate.of(TinyDatasets.tinyModel(), null, 4, 1, 16, 8, false),
                1L << 30);
    }
}
