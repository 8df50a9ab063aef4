package ai.chunkwise.train.bench;

import ai.chunkwise.train.model.GradientFunction;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SessionMemMgr;
import org.nd4j.autodiff.samediff.internal.memory.AbstractMemoryMgr;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.LongShapeDescriptor;

import java.util.List;
import java.util.Map;

/**
 * The attention core as the trainer builds it today ({@code LlamaChunkGraph.attention}: scaled q, mmul with K^T,
 * additive mask, softmax, mmul with V) in a graph of its own, whose objective sum(out * dOut) makes SameDiff's
 * gradient the chain rule with dOut, run the way the trainer runs its chunk graph ({@link GradientFunction}: array
 * cache on, the trainer's call-scoped session with its array cache). The comparison is only fair if SameDiff is
 * called exactly as the trainer calls it, so this goes through the product's {@link GradientFunction} itself.
 */
public final class SameDiffAttention implements AttentionCore {
    private static final String OUT = "out";
    private final GradientFunction gradients;
    private final ArrayLedger ledger = new ArrayLedger();

    public SameDiffAttention(DataType type, int heads, int headDim) {
        SameDiff sd = SameDiff.create();
        SDVariable q = sd.placeHolder("q", type, 1, heads, -1, headDim);
        SDVariable k = sd.placeHolder("k", type, 1, heads, -1, headDim);
        SDVariable v = sd.placeHolder("v", type, 1, heads, -1, headDim);
        SDVariable dOut = sd.placeHolder("dOut", type, 1, heads, -1, headDim);
        SDVariable mask = sd.placeHolder("mask", type, 1, 1, -1, -1);
        // the trainer's ops, in its order (with heads == kvHeads its reshape to KV groups changes nothing)
        SDVariable grouped = sd.reshape(q.mul(1.0 / Math.sqrt(headDim)), 1, heads, -1, headDim);
        SDVariable scores = sd.mmul(grouped, k, false, true, false);
        SDVariable probs = sd.nn.softmax(scores.add(mask), 3);
        SDVariable out = sd.mmul(OUT, probs, v);
        sd.sum("objective", out.mul(dOut));
        sd.setLossVariables("objective");
        gradients = new GradientFunction(sd, List.of("q", "k", "v"));
        gradients.wrapSessionMemory(inner -> new Counting(inner, ledger));
    }

    @Override
    public String name() {
        return "samediff";
    }

    @Override
    public AttentionGradients run(AttentionInputs in) {
        ledger.reset();
        Map<String, INDArray> r = gradients.run(Map.of("q", in.q(), "k", in.k(), "v", in.v(), "dOut", in.dOut(),
                "mask", in.mask()), OUT, List.of("q", "k", "v"));
        return new AttentionGradients(r.get(OUT), r.get("q"), r.get("k"), r.get("v"));
    }

    @Override
    public ArrayLedger ledger() {
        return ledger;
    }

    @Override
    public boolean callerOwnsOutputs() {
        return false;
    }

    /**
     * The session's memory manager, reporting each array the session asks for and hands back (this counts what
     * the session holds, whether the cache underneath serves it from a kept array or a fresh one).
     */
    static final class Counting extends AbstractMemoryMgr {
        private final SessionMemMgr inner;
        private final ArrayLedger ledger;

        Counting(SessionMemMgr inner, ArrayLedger ledger) {
            this.inner = inner;
            this.ledger = ledger;
        }

        @Override
        public INDArray allocate(boolean detached, DataType dataType, long... shape) {
            INDArray a = inner.allocate(detached, dataType, shape);
            ledger.allocated(a);
            return a;
        }

        @Override
        public INDArray allocate(boolean detached, LongShapeDescriptor descriptor) {
            INDArray a = inner.allocate(detached, descriptor);
            ledger.allocated(a);
            return a;
        }

        @Override
        public void release(INDArray array) {
            ledger.released(array);
            inner.release(array);
        }

        @Override
        public void close() {
            inner.close();
        }
    }
}
