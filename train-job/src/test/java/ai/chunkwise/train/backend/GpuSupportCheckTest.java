package ai.chunkwise.train.backend;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CUDA start-up check on nvidia-smi's output lines (formats as printed by real drivers). */
class GpuSupportCheckTest {

    @Test
    void amperesAndOlderPass() {
        assertNull(GpuSupportCheck.problemWith(List.of("NVIDIA GeForce RTX 3090, 8.6", "Tesla V100-SXM2-16GB, 7.0")));
    }

    @Test
    void hopperIsNamedWithWhatToDo() {
        String msg = GpuSupportCheck.problemWith(List.of("NVIDIA A100-SXM4-80GB, 8.0", "NVIDIA H100 80GB HBM3, 9.0"));
        assertNotNull(msg);
        assertTrue(msg.contains("NVIDIA H100 80GB HBM3 (compute capability 9.0)"), msg);
        assertTrue(msg.contains("without -Pcuda"), msg);
        assertFalse(msg.contains("A100-SXM4"), msg);   // the supported card is not listed
    }

    @Test
    void theLineAnH200PrintsIsRejected() {
        // verbatim from `nvidia-smi --query-gpu=name,compute_cap --format=csv,noheader` on the device machine
        // (driver 580.159.04)
        assertTrue(GpuSupportCheck.problemWith(List.of("NVIDIA H200, 9.0")).contains("NVIDIA H200 (compute capability 9.0)"));
    }

    @Test
    void adaLovelaceIsAlsoTooNew() {
        assertNotNull(GpuSupportCheck.problemWith(List.of("NVIDIA GeForce RTX 4090, 8.9")));
    }

    @Test
    void noGpuOrAnUnreadableLineIsAnError() {
        assertTrue(GpuSupportCheck.problemWith(List.of()).contains("lists no GPU"));
        assertTrue(GpuSupportCheck.problemWith(List.of("Quadro K2000, [N/A]")).contains("driver"));
    }

    @Test
    void theCpuBuildSkipsTheCheck() {
        assertFalse(GpuSupportCheck.cudaBackendOnClasspath());
        GpuSupportCheck.requireSupportedGpu();   // no nvidia-smi needed on the CPU build
    }
}
