package ai.chunkwise.train.engine;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Relative L2 error per tensor, ||actual - expected|| / ||expected||, computed in float64. */
public final class GradientComparison {
    private GradientComparison() {
    }

    public static double relativeError(INDArray actual, INDArray expected) {
        INDArray a = actual.castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE);
        INDArray e = expected.castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE);
        assertTrue(java.util.Arrays.equals(a.shape(), e.shape()),
                "shape " + java.util.Arrays.toString(a.shape()) + " vs " + java.util.Arrays.toString(e.shape()));
        double norm = e.norm2Number().doubleValue();
        double diff = a.sub(e).norm2Number().doubleValue();
        return norm == 0 ? diff : diff / norm;
    }

    /** Asserts both maps hold the same names and every tensor agrees within {@code tolerance}; returns the worst. */
    public static double assertAllClose(Map<String, INDArray> actual, Map<String, INDArray> expected, double tolerance,
                                        String what) {
        assertEquals(expected.keySet(), actual.keySet(), what + ": tensor names differ");
        double worst = 0;
        String worstName = null;
        for (Map.Entry<String, INDArray> e : expected.entrySet()) {
            INDArray a = actual.get(e.getKey());
            assertNotNull(a, what + ": missing " + e.getKey());
            double err = relativeError(a, e.getValue());
            if (err > worst || worstName == null) {
                worst = err;
                worstName = e.getKey();
            }
        }
        assertTrue(worst <= tolerance, what + ": worst relative error " + worst + " at " + worstName
                + " exceeds " + tolerance);
        return worst;
    }
}
