// The decisions of scripts/setup.mjs, kept free of side effects so tests can feed them an
// invented machine: parsing os-release, apt sources and dpkg status, planning the install
// steps, and the cache key of a successful check.

export const TEMPLATE_PATH = '/usr/share/mricron/templates/ch2bet.nii.gz';
export const CHROMIUM_PATH = '/usr/bin/chromium';
export const BACKPORTS_PATH = '/etc/apt/sources.list.d/bookworm-backports.sources';
export const DRIVER_PACKAGES = ['libvulkan1', 'mesa-vulkan-drivers'];
const DEFAULT_MIRROR = 'http://deb.debian.org/debian';
const KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

// ---------------------------------------------------------------- reading the machine

/** Parses /etc/os-release text into { id, versionCodename }. */
export function parseOsRelease(text) {
  const fields = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (match) fields[match[1]] = match[2].replace(/^"(.*)"$/, '$1');
  }
  return { id: fields.ID ?? '', versionCodename: fields.VERSION_CODENAME ?? '' };
}

/**
 * Lists the enabled apt sources of `files` ({ path, text }), both the deb822 `.sources`
 * format and the one-line `.list` format, as { types, uris, suites } records.
 */
export function parseAptSources(files) {
  return files.flatMap(({ path, text }) =>
    path.endsWith('.sources') ? parseDeb822Sources(text) : parseOneLineSources(text),
  );
}

function parseDeb822Sources(text) {
  const sources = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = {};
    for (const line of stanza.split('\n')) {
      const match = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
      if (match) fields[match[1].toLowerCase()] = match[2].trim().split(/\s+/);
    }
    if (!fields.uris || !fields.suites || fields.enabled?.[0] === 'no') continue;
    sources.push({ types: fields.types ?? ['deb'], uris: fields.uris, suites: fields.suites });
  }
  return sources;
}

function parseOneLineSources(text) {
  const sources = [];
  for (const line of text.split('\n')) {
    const match = /^\s*(deb|deb-src)\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line);
    if (match) sources.push({ types: [match[1]], uris: [match[2]], suites: [match[3]] });
  }
  return sources;
}

/** Returns the mirror URI that serves `codename` itself (not security), or Debian's default. */
export function findDebianMirror(sources, codename) {
  for (const source of sources) {
    if (!source.types.includes('deb') || !source.suites.includes(codename)) continue;
    const uri = source.uris.find((candidate) => !candidate.includes('security'));
    if (uri) return uri;
  }
  return DEFAULT_MIRROR;
}

export function hasSuite(sources, suite) {
  return sources.some((source) => source.types.includes('deb') && source.suites.includes(suite));
}

/** Builds the deb822 stanza that adds `<codename>-backports` from `mirror`. */
export function backportsSource(mirror, codename) {
  return [
    'Types: deb',
    `URIs: ${mirror}`,
    `Suites: ${codename}-backports`,
    'Components: main',
    `Signed-By: ${KEYRING}`,
    '',
  ].join('\n');
}

// ---------------------------------------------------------------- deciding what to do

/**
 * Decides the steps that make the machine ready. `env` is what was found: { adapter (a probe
 * result), hasTemplates, hasChromium, os: { id, versionCodename }, isRoot, hasAptGet,
 * sources }. Returns { steps, manual }: steps this process can run (write-file and apt
 * commands), and instructions for a person when it cannot install something itself.
 */
export function planSetup(env) {
  const canInstall = env.isRoot && env.hasAptGet && env.os.id === 'debian';
  const steps = [];
  const manual = [];
  const needsDrivers = env.adapter.status === 'no-adapter' || env.adapter.status === 'failed';

  if (env.adapter.status === 'no-package') {
    manual.push("The npm package 'webgpu' is not installed: run `npm install` in the project.");
  } else if (needsDrivers) {
    planDrivers(env, canInstall, steps, manual);
  }

  const packages = [];
  if (!env.hasTemplates) packages.push('mricron-data');
  if (!env.hasChromium) packages.push('chromium');
  if (packages.length > 0 && canInstall) {
    steps.push(aptInstall(packages, null, `${packages.join(' and ')} missing`));
  } else if (packages.length > 0) {
    manual.push(`Install Debian's ${packages.join(', ')}: apt-get install ${packages.join(' ')}`);
  }

  // apt-get update runs once, after the new source is written and before any install.
  const firstApt = steps.findIndex((step) => step.kind === 'apt-get');
  if (firstApt >= 0) {
    steps.splice(firstApt, 0, {
      kind: 'apt-get',
      args: ['update'],
      reason: 'refresh the package lists',
    });
  }
  return { steps, manual };
}

function planDrivers(env, canInstall, steps, manual) {
  const codename = env.os.versionCodename;
  const isBookworm = env.os.id === 'debian' && codename === 'bookworm';
  if (!isBookworm || !canInstall) {
    manual.push(driverInstructions(env, isBookworm));
    return;
  }
  if (!hasSuite(env.sources, `${codename}-backports`)) {
    const mirror = findDebianMirror(env.sources, codename);
    steps.push({
      kind: 'write-file',
      path: BACKPORTS_PATH,
      content: backportsSource(mirror, codename),
      reason: `add ${codename}-backports (Mesa 25) from ${mirror}`,
    });
  }
  steps.push(aptInstall(DRIVER_PACKAGES, `${codename}-backports`, 'no WebGPU adapter found'));
}

function driverInstructions(env, isBookworm) {
  const found = `No WebGPU adapter found (${env.adapter.detail ?? env.adapter.status}).`;
  if (isBookworm) {
    return (
      `${found} As root, add bookworm-backports to /etc/apt/sources.list.d and run: ` +
      `apt-get update && apt-get install -t bookworm-backports ${DRIVER_PACKAGES.join(' ')}`
    );
  }
  return (
    `${found} Install a Vulkan driver that Dawn accepts: a GPU vendor's driver, or Mesa ` +
    `24 or later with lavapipe (on Debian and Ubuntu: libvulkan1 mesa-vulkan-drivers).`
  );
}

function aptInstall(packages, targetRelease, reason) {
  const release = targetRelease ? ['-t', targetRelease] : [];
  return { kind: 'apt-get', args: ['install', '-y', ...release, ...packages], reason };
}

// ---------------------------------------------------------------- cache

/** Builds the cache key: the versions of everything a successful check depends on. */
export function cacheKey({ nodeVersion, webgpuVersion, debVersions }) {
  return JSON.stringify({ nodeVersion, webgpuVersion, debVersions });
}

/** Reads the installed versions of `packages` from dpkg's status file text. */
export function debVersionsFrom(statusText, packages) {
  const versions = {};
  for (const stanza of statusText.split('\n\n')) {
    const name = /^Package: (\S+)$/m.exec(stanza)?.[1];
    if (!name || !packages.includes(name) || !/^Status: .* installed$/m.test(stanza)) continue;
    versions[name] = /^Version: (\S+)$/m.exec(stanza)?.[1] ?? '';
  }
  return versions;
}

/** Returns whether the cached result lets --if-needed skip every check. */
export function isCacheFresh(cache, key, env) {
  return cache?.ok === true && cache.key === key && env.hasTemplates && env.hasChromium;
}
