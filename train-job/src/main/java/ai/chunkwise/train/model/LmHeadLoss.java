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
 * of Apple's Cut Cross-Entropy and Liger's fused linear cross-entropy). With a 128K vocabulary the logits of a
 * 256-token chunk would be 128 MiB in fp32, twice with their gradient. Hand-written because no ND4J op fuses the
 * head with the loss.
 *
 * <p><b>Frozen head (LoRA, the common case): one sweep.</b> The gradient with respect to x is
 * dx_i = w_i (sum_v softmax(z_i)_v W_v - W[label_i]), and sum_v softmax_v W_v can be accumulated in the same sweep
 * as the log-sum-exp, FlashAttention-style: per block, z = x W_b^T; the running row max m rises to newM, the running
 * sum s and the accumulator acc [N, hidden] are rescaled by exp(m - newM), then s += rowsum(exp(z - newM)) and
 * acc += exp(z - newM) W_b. At the end lse = m + log s and dx_i = w_i acc_i / s_i - w_i W[label_i] (zero for
 * weight-0 rows). Two GEMMs of [N x vocab x hidden] per backward chunk, as PyTorch's forward + backward (logits,
 * then dx), instead of three (a first sweep for the log-sum-exp, a second that recomputes the logits for dx); at
 * SmolLM2's and Llama-3.2-1B's widths this head was the largest fixed cost of a SeCO chunk.
 *
 * <p><b>Trainable head (full fine-tuning): two sweeps.</b> dW needs each block's normalized dz = w_i (softmax -
 * onehot), which is only known once the whole row's log-sum-exp is: a first sweep keeps the online log-sum-exp and
 * picks each label's logit; a second recomputes each block's logits, turns them into dz and multiplies them back
 * into dx and dW. The forward pass (no backward) is the first sweep alone.
 */
public final class LmHeadLoss {
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

    /**
     * The benchmarks' entry ({@code ai.chunkwise.train.bench.LmHeadProbe}, which compares the two ways of computing
     * a frozen head's backward): a head whose frozen weights are widened to {@code computeType} per block, with the
     * trainer's block sizes.
     */
    public static LmHeadLoss forBench(DataType computeType) {
        return new LmHeadLoss(new WideningBuffers(computeType));
    }

    /**
     * The benchmarks' entry: the loss's gradient with respect to {@code x} [N, hidden] for a frozen {@code head}
     * [vocab, hidden], by the one sweep the trainer runs ({@code oneSweep}) or by the two sweeps it ran before (and
     * still runs for a trainable head). The returned array is new for each call; the loss is dropped.
     */
    public INDArray frozenHeadInputGrad(INDArray x, INDArray head, int[] labels, double[] weights, boolean oneSweep) {
        return (oneSweep ? oneSweep(x, head, labels, weights, false) : twoSweeps(x, head, labels, weights, true,
                null, false)).inputGrad();
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
        if (backward && headGrad == null) {
            return oneSweep(x, head, labels, weights, withLogits);
        }
        return twoSweeps(x, head, labels, weights, backward, headGrad, withLogits);
    }

    /** Loss and dx of a frozen head in one sweep over the vocabulary (see the class comment). */
    private Result oneSweep(INDArray x, INDArray head, int[] labels, double[] weights, boolean withLogits) {
        DataType type = x.dataType();
        int n = (int) x.rows();
        long vocab = head.rows();
        long block = fixedBlock > 0 ? fixedBlock : blockSize(n, vocab, head.columns());
        INDArray max = null;                                                     // [N, 1], set by the first block
        INDArray sum = Nd4j.zeros(type, n, 1);
        INDArray acc = Nd4j.zeros(type, n, x.columns());                         // sum_v exp(z_v - max) W_v
        double[] labelLogits = new double[n];
        INDArray logits = withLogits ? Nd4j.create(type, n, vocab) : null;
        for (long from = 0; from < vocab; from += block) {
            long to = Math.min(vocab, from + block);
            INDArray wBlock = headBlock(head, from, to);
            INDArray z = blockLogits(x, wBlock);
            pickLabels(z, labels, from, to, labelLogits);
            if (logits != null) {
                logits.get(all(), interval(from, to)).assign(z);
            }
            INDArray blockMax = z.max(true, 1);
            INDArray newMax;
            if (max == null) {
                newMax = blockMax;                       // sum and acc are still zero: nothing to rescale
            } else {
                newMax = Transforms.max(max, blockMax, true);
                INDArray rescale = Transforms.exp(max.subi(newMax), false);    // max is not read again
                sum.muli(rescale);
                acc.muliColumnVector(rescale);
            }
            INDArray p = Transforms.exp(z.subiColumnVector(newMax), false);    // in the scratch, in place
            sum.addi(p.sum(true, 1));
            Nd4j.gemm(p, wBlock, acc, false, false, 1, 1);
            max = newMax;
        }
        INDArray lse = max.addi(Transforms.log(sum, true));                      // [N, 1]; sum is read below
        double loss = loss(lse, labelLogits, weights);
        INDArray w = Nd4j.create(weights, new long[]{n, 1}, type);
        INDArray dx = acc.diviColumnVector(sum).muliColumnVector(w);             // w_i sum_v softmax_v W_v
        for (int i = 0; i < n; i++) {
            if (weights[i] == 0) {
                dx.getRow(i).assign(0);
            } else {     // - w_i W[label_i], widened; castTo returns the head's own row if already wide: mul, not muli
                dx.getRow(i).subi(head.getRow(labels[i]).castTo(type).mul(weights[i]));
            }
        }
        return new Result(loss, logits, dx);
    }

    /** The forward sweep (online log-sum-exp), and for a backward a second sweep for dx and dW. */
    private Result twoSweeps(INDArray x, INDArray head, int[] labels, double[] weights, boolean backward,
                             INDArray headGrad, boolean withLogits) {
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
        double loss = loss(lse, labelLogits, weights);
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

    private static double loss(INDArray lse, double[] labelLogits, double[] weights) {
        double loss = 0;
        for (int i = 0; i < weights.length; i++) {
            if (weights[i] != 0) {
                loss += weights[i] * (lse.getDouble(i, 0) - labelLogits[i]);
            }
        }
        return loss;
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
