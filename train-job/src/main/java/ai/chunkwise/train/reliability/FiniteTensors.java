package ai.chunkwise.train.reliability;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Map;
import java.util.Optional;

/** Finds tensors holding NaN or infinity: such a tensor poisons every later step that reads it. */
public final class FiniteTensors {
    private FiniteTensors() {
    }

    /** The name of the first tensor that holds a NaN or an infinity, if any. */
    public static Optional<String> firstNonFinite(Map<String, INDArray> tensors) {
        for (Map.Entry<String, INDArray> e : tensors.entrySet()) {
            INDArray a = e.getValue();
            if (a.length() > 0 && (a.isNaN().any() || a.isInfinite().any())) {
                return Optional.of(e.getKey());
            }
        }
        return Optional.empty();
    }
}
