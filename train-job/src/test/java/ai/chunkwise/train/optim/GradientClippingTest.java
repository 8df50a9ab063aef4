package ai.chunkwise.train.optim;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GradientClippingTest {

    @Test
    void scalesAllGradientsByTheGlobalNorm() {
        // global norm sqrt(3^2 + 4^2 + 12^2) = 13
        INDArray a = Nd4j.createFromArray(3.0, 0.0);
        INDArray b = Nd4j.createFromArray(new double[][] {{0.0, 4.0}, {12.0, 0.0}});
        double norm = GradientClipping.clipGlobalNorm(Map.of("a", a, "b", b), 1.0);
        assertEquals(13.0, norm, 1e-14);
        double c = 1.0 / (13.0 + 1e-6);   // torch's clip coefficient
        assertEquals(3.0 * c, a.getDouble(0), 1e-14);
        assertEquals(4.0 * c, b.getDouble(0, 1), 1e-14);
        assertEquals(12.0 * c, b.getDouble(1, 0), 1e-14);
        assertEquals(1.0, Math.sqrt(Math.pow(a.norm2Number().doubleValue(), 2) + Math.pow(b.norm2Number().doubleValue(), 2)), 1e-6);
    }

    @Test
    void leavesSmallGradientsAlone() {
        INDArray a = Nd4j.createFromArray(0.3f, -0.4f);
        assertEquals(0.5, GradientClipping.clipGlobalNorm(Map.of("a", a), 1.0), 1e-7);
        assertEquals(Nd4j.createFromArray(0.3f, -0.4f), a);
    }

    @Test
    void reportsNonFiniteNormsWithoutTouchingTheGradients() {
        INDArray a = Nd4j.createFromArray(1.0, Double.NaN);
        INDArray b = Nd4j.createFromArray(5.0);
        assertTrue(Double.isNaN(GradientClipping.clipGlobalNorm(Map.of("a", a, "b", b), 1.0)));
        assertEquals(5.0, b.getDouble(0), 0.0);
        assertThrows(IllegalArgumentException.class, () -> GradientClipping.clipGlobalNorm(Map.of("b", b), 0.0));
    }
}
