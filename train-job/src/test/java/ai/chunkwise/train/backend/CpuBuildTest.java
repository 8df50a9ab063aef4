package ai.chunkwise.train.backend;

import org.bytedeco.javacpp.Loader;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CpuBuildTest {

    @Test
    void oneDnnAvx2OnlyWhereTheCpuHasAvx2AndFma() {
        assertEquals("-onednn-avx2", CpuBuild.choose(Set.of("sse4_2", "avx", "avx2", "fma"), true));
        assertEquals("", CpuBuild.choose(Set.of("sse4_2", "avx"), true), "no AVX2: the plain x86-64 build");
        assertEquals("", CpuBuild.choose(Set.of("avx2"), true), "AVX2 without FMA: the plain build");
        assertEquals("", CpuBuild.choose(Set.of(), true), "flags unreadable: the plain build");
        assertEquals("", CpuBuild.choose(Set.of("avx2", "fma"), false), "oneDNN build not shipped: plain");
    }

    @Test
    void theLoadedNativeLibraryIsTheSelectedBuild() {
        String extension = CpuBuild.select();   // already chosen for this JVM by CpuBuildSelection
        Nd4j.create(2, 2).mmul(Nd4j.create(2, 2));
        String loaded = Loader.getLoadedLibraries().get("nd4jcpu");
        assertNotNull(loaded, "ND4J's native library is not loaded");
        Set<String> flags = CpuBuild.cpuFlags();
        String expected = flags.contains("avx2") && flags.contains("fma") ? "-onednn-avx2" : "";
        assertEquals(expected, extension);
        assertTrue(loaded.contains("/linux-x86_64" + expected + "/"), "loaded " + loaded + ", expected the build "
                + "linux-x86_64" + expected);
    }
}
