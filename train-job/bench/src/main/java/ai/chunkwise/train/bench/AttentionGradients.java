package ai.chunkwise.train.bench;

import org.nd4j.linalg.api.ndarray.INDArray;

/** The attention core's output and the gradients of the objective sum(out * dOut) with respect to q, k and v. */
public record AttentionGradients(INDArray out, INDArray dQ, INDArray dK, INDArray dV) {

    /** Frees the native buffers now instead of when the GC finds the wrappers. */
    void close() {
        for (INDArray a : new INDArray[] {out, dQ, dK, dV}) {
            if (a.closeable()) {
                a.close();
            }
        }
    }
}
