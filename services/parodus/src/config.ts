/** Parodus' settings, one field per command-line option (long names in comments). */
export interface ParodusConfig {
  hwModel: string; // --hw-model -m
  hwSerialNumber: string; // --hw-serial-number -s
  hwManufacturer: string; // --hw-manufacturer -f
  hwMac: string; // --hw-mac -d
  hwLastRebootReason: string; // --hw-last-reboot-reason -r
  fwName: string; // --fw-name -n
  bootTime: number; // --boot-time -b (unix seconds)
  webpaUrl: string; // --webpa-url -u
  webpaPingTimeout: number; // --webpa-ping-timeout -t (seconds; 0 = no ping-miss check)
  webpaBackoffMax: number; // --webpa-backoff-max -o
  webpaInterfaceUsed: string; // --webpa-interface-used -i
  parodusLocalUrl: string; // --parodus-local-url -l
  partnerId: string; // --partner-id -p (comma list)
  seshatUrl: string; // --seshat-url -e (accepted, unused)
  dnsTxtUrl: string; // --dns-txt-url -D (accepted, unused)
  acquireJwt: number; // --acquire-jwt -j (accepted, unused)
  jwtAlgo: string; // --jwt-algo -a (accepted, unused)
  jwtPublicKeyFile: string; // --jwt-public-key-file -k (accepted, unused)
  sslCertPath: string; // --ssl-cert-path -c (CA file)
  forceIpv4: boolean; // --force-ipv4 -4
  forceIpv6: boolean; // --force-ipv6 -6
  bootTimeRetryWait: number; // --boot-time-retry-wait -w
  clientCertPath: string; // --client-cert-path (cert + key PEM for the token server)
  tokenServerUrl: string; // --token-server-url
  crudConfigFile: string; // --crud-config-file -C (accepted, unused)
  connectionHealthFile: string; // --connection-health-file -S
  closeReasonFile: string; // --close-reason-file -R
  mtlsClientKeyPath: string; // --mtls-client-key-path -K
  mtlsClientCertPath: string; // --mtls-client-cert-path
}

export const PARODUS_DEFAULTS: ParodusConfig = {
  hwModel: '',
  hwSerialNumber: '',
  hwManufacturer: '',
  hwMac: '',
  hwLastRebootReason: '',
  fwName: '',
  bootTime: 0,
  webpaUrl: '',
  webpaPingTimeout: 0,
  webpaBackoffMax: 0,
  webpaInterfaceUsed: '',
  parodusLocalUrl: 'tcp://127.0.0.1:6666',
  partnerId: '',
  seshatUrl: '',
  dnsTxtUrl: 'fabric',
  acquireJwt: 0,
  jwtAlgo: '',
  jwtPublicKeyFile: '',
  sslCertPath: '',
  forceIpv4: false,
  forceIpv6: false,
  bootTimeRetryWait: 0,
  clientCertPath: '',
  tokenServerUrl: '',
  crudConfigFile: '',
  connectionHealthFile: '',
  closeReasonFile: '',
  mtlsClientKeyPath: '',
  mtlsClientCertPath: '',
};

/** The constant Parodus reports as `webpa-uuid`. */
export const WEBPA_UUID = '1234567-345456546';
