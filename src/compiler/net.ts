// IPv4 arithmetic for the network rules (subnets, prefixes, netmasks). Pure.

/** Parses dotted-quad IPv4 strictly (no leading zeros, no shorthand); returns the 32-bit value. */
export function parseIPv4(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  let v = 0;
  for (let i = 1; i <= 4; i++) {
    const part = m[i]!;
    if (part.length > 1 && part.startsWith('0')) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    v = v * 256 + n;
  }
  return v;
}

export function formatIPv4(v: number): string {
  return [24, 16, 8, 0].map((sh) => Math.floor(v / 2 ** sh) % 256).join('.');
}

/** Netmask (255.255.255.0) → prefix length (24); undefined when not a contiguous mask. */
export function netmaskToPrefix(mask: string): number | undefined {
  const v = parseIPv4(mask);
  if (v === undefined) return undefined;
  const bits = v.toString(2).padStart(32, '0');
  if (!/^1*0*$/.test(bits)) return undefined;
  const p = bits.indexOf('0') === -1 ? 32 : bits.indexOf('0');
  return p === 0 ? undefined : p;
}

export function prefixToNetmask(prefix: number): string {
  return formatIPv4(prefix === 0 ? 0 : (0xffffffff - (2 ** (32 - prefix) - 1)) >>> 0);
}

export function networkOf(ip: number, prefix: number): number {
  const size = 2 ** (32 - prefix);
  return ip - (ip % size);
}

export function sameSubnet(a: string, b: string, prefix: number): boolean {
  const x = parseIPv4(a);
  const y = parseIPv4(b);
  if (x === undefined || y === undefined) return false;
  return networkOf(x, prefix) === networkOf(y, prefix);
}

export function cidr(ip: string, prefix: number): string {
  return `${formatIPv4(networkOf(parseIPv4(ip)!, prefix))}/${prefix}`;
}
