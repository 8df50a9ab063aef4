package ai.chunkwise.train.model;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;

/**
 * The LM head and the weighted cross-entropy, sum_i w_i (logsumexp(z_i) - z_i[label_i]) with z = x W^T, computed
 * over blocks of the vocabulary so that no [tokens x vocab] logits nor their gradient exist at once (the approach
 * of Apple's Cut Cross-Entropy and Liger's fused linear cross-entropy): a first sweep keeps a running row max and
 * sum (online log-sum-exp) and picks each label's logit; a second sweep, for the gradient, recomputes each block's
 * logits, turns them into w_i (softmax - onehot) and multiplies them back into dx (and dW when the head trains).
 * With a 128K vocabulary the logits of a 256-token chunk would be 128 MiB in fp32, twice with their gradient.
 * Hand-written because no ND4J op fuses the head with the loss.
 */
final class LmHeadLoss {
    /** Logits per block, at most (rows x vocabulary block entries). */
    private static final long BLOCK_ENTRIES = 4L << 20;
    /** Head weights widened per block, at most (vocabulary block x hidden entries). */
    private static final long WEIGHT_BLOCK_ENTRIES = 16L << 20;

    private final WideningBuffers widening;
    private final long fixedBlock;
    private INDArray logitScratch;

    LmHeadLoss(WideningBuffers widening) {
        this(widening, 0);
    }

    /** @param fixedBlock vocabulary rows per block, or 0 to size blocks by the bounds above (tests fix it) */
    LmHeadLoss(WideningBuffers widening, long fixedBlock) {
        this.widening = widening;
        this.fixedBlock = fixedBlock;
    }

    /** The loss and, when asked for, the logits [N, vocab] and the gradients. */
    record Result(double loss, INDArray logits, INDArray inputGrad) {
    }

    /**
     * @param x          [N, hidden] final-norm output, in the compute dtype
     * @param head       [vocab, hidden] LM-head weight (any float dtype; widened per block)
     * @param headGrad   [vocab, hidden] array the head's gradient is ADDED into, or null (frozen head, or no
     *                   backward)
     * @param backward   whether to compute the gradient of the loss with respect to x (and the head)
     * @param withLogits whether to return the whole logits (evaluation and tests; costs N x vocab)
     */
    Result run(INDArray x, INDArray head, int[] labels, double[] weights, boolean backward, INDArray headGrad,
               boolean withLogits) {
        DataType type = x.dataType();
        int n = (int) x.rows();
        long vocab = head.rows();
        long block = fixedBlock > 0 ? fixedBlock : blockSize(n, vocab, head.columns());
        INDArray max = Nd4j.valueArrayOf(new long[]{n, 1}, Double.NEGATIVE_INFINITY, type);
        INDArray sum = Nd4j.zeros(type, n, 1);
        double[] labelLogits = new double[n];
        INDArray logits = withLogits ? Nd4j.create(type, n, vocab) : null;
        for (long from = 0; from < vocab; from += block) {
            long to = Math.min(vocab, from + block);
            INDArray z = blockLogits(x, headBlock(head, from, to));
            pickLabels(z, labels, from, to, labelLogits);
            if (logits != null) {
                logits.get(all(), interval(from, to)).assign(z);
            }
            INDArray newMax = Transforms.max(max, z.max(true, 1), true);
            INDArray rescale = Transforms.exp(max.subi(newMax), false);
            sum.muli(rescale).addi(Transforms.exp(z.subiColumnVector(newMax), false).sum(true, 1));
            max = newMax;
        }
        INDArray lse = max.addi(Transforms.log(sum, false));                     // [N, 1]
        double loss = 0;
        for (int i = 0; i < n; i++) {
            if (weights[i] != 0) {
                loss += weights[i] * (lse.getDouble(i, 0) - labelLogits[i]);
            }
        }
        if (!backward) {
            return new Result(loss, logits, null);
        }
        INDArray w = Nd4j.create(weights, new long[]{n, 1}, type);
        INDArray dx = Nd4j.zeros(type, n, x.columns());
        for (long from = 0; from < vocab; from += block) {
            long to = Math.min(vocab, from + block);
            INDArray wBlock = headBlock(head, from, to);
            INDArray dz = blockLogits(x, wBlock);
            Transforms.exp(dz.subiColumnVector(lse), false).muliColumnVector(w);   // w_i softmax_i
            for (int i = 0; i < n; i++) {
                if (labels[i] >= from && labels[i] < to && weights[i] != 0) {
                    int col = (int) (labels[i] - from);
                    dz.putScalar(i, col, dz.getDouble(i, col) - weights[i]);        // - w_i onehot_i
                }
            }
            Nd4j.gemm(dz, wBlock, dx, false, false, 1, 1);
            if (headGrad != null) {
                Nd4j.gemm(dz, x, headGrad.get(interval(from, to), all()), true, false, 1, 1);
            }
        }
        return new Result(loss, logits, dx);
    }

    private static long blockSize(int rows, long vocab, long hidden) {
        long byLogits = Math.max(1, BLOCK_ENTRIES / Math.max(1, rows));
        long byWeights = Math.max(1, WEIGHT_BLOCK_ENTRIES / Math.max(1, hidden));
        return Math.min(vocab, Math.min(byLogits, byWeights));
    }

    /** Rows [from, to) of the head, in the compute dtype. */
    private INDArray headBlock(INDArray head, long from, long to) {
        return widening.widened("lm_head_block", head.get(interval(from, to), all()));
    }

    /** x W_block^T into the reused scratch: [N, block rows]. */
    private INDArray blockLogits(INDArray x, INDArray wBlock) {
        long n = x.rows();
        long size = n * wBlock.rows();
        if (logitScratch == null || logitScratch.dataType() != x.dataType() || logitScratch.length() < size) {
            logitScratch = Nd4j.create(x.dataType(), size);
        }
        INDArray z = logitScratch.get(interval(0, size)).reshape('c', n, wBlock.rows());
        Nd4j.gemm(x, wBlock, z, false, true, 1, 0);
        return z;
    }

    private static void pickLabels(INDArray z, int[] labels, long from, long to, double[] out) {
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] >= from && labels[i] < to) {
                out[i] = z.getDouble(i, labels[i] - from);
            }
        }
    }
}
