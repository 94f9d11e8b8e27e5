/*
 * prng-shim.c: a bcryptprimitives.dll exporting ProcessPrng, for the Wine TEST PREFIX ONLY.
 *
 * Go >= 1.22 programs call ProcessPrng from bcryptprimitives.dll at start-up (the runtime's
 * random source on Windows 10 and later, where the DLL is always present). Debian's Wine 8.0
 * lacks that DLL, so satchel.exe stops with "fatal error: bcryptprimitives.dll not found" under
 * it. scripts/windows/smoke.sh builds this file with mingw-w64 and copies the DLL into the
 * throw-away Wine prefix of the smoke test. It is never shipped: dist/Satchel-windows-amd64.zip
 * holds only satchel.exe, satchel.com and README.txt (the smoke test and dist.sh check that).
 *
 * ProcessPrng fills the buffer from RtlGenRandom (advapi32's SystemFunction036), which Wine
 * implements over the host's random source; it takes a ULONG length, hence the chunking.
 */
#include <windows.h>
#include <ntsecapi.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
	while (len > 0) {
		ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
		if (!RtlGenRandom(data, n))
			return FALSE;
		data += n;
		len -= n;
	}
	return TRUE;
}
