package sysctl

// Byte layouts of the xnu structures the parser reads. Both darwin
// architectures (arm64, amd64) are little-endian and lay these structures out
// identically (compare SizeofIfMsghdr2 and SizeofIfData64 in
// golang.org/x/sys/unix ztypes_darwin_{arm64,amd64}.go). Every offset is in
// bytes from the start of the structure named in its group.

// Routing message header shared by every message in a NET_RT_IFLIST2 reply
// (struct rt_msghdr, struct if_msghdr2, struct ifa_msghdr2, ...).
const (
	offMsglen  = 0 // u_short ifm_msglen: length of the whole message, sockaddrs included
	offVersion = 2 // u_char  ifm_version: RTM_VERSION
	offType    = 3 // u_char  ifm_type: RTM_*
	sizeMsgHdr = 4 // bytes needed to read the three fields above

	rtmVersion  = 5    // RTM_VERSION (net/route.h)
	rtmIFINFO2  = 0x12 // RTM_IFINFO2 (net/route.h)
	rtaIFP      = 0x10 // RTA_IFP: a sockaddr_dl naming the interface follows
	rtaxIFP     = 4    // RTAX_IFP: its position among the RTA_* sockaddrs
	sockaddrPad = 4    // xnu rounds each sockaddr up to sizeof(uint32_t) (ROUNDUP32 in rtsock.c)
	afLink      = 18   // AF_LINK (sys/socket.h)
)

// struct if_msghdr2 (net/if.h), 160 bytes.
const (
	offIfmAddrs    = 4  // int      ifm_addrs: RTA_* bitmask of sockaddrs after the header
	offIfmFlags    = 8  // int      ifm_flags: IFF_* flags
	offIfmIndex    = 12 // u_short  ifm_index; 2 bytes padding follow
	offIfmSndDrops = 24 // int      ifm_snd_drops: packets dropped at the send queue
	offIfmData     = 32 // struct if_data64 ifm_data
	sizeIfMsghdr2  = offIfmData + sizeIfData64
)

// struct if_data64 (net/if_var.h, #pragma pack(4)), 128 bytes.
const (
	offIfiType     = 0   // u_char    ifi_type: IFT_*
	offIfiMtu      = 8   // u_int32_t ifi_mtu
	offIfiBaudrate = 16  // u_int64_t ifi_baudrate
	offIfiIpackets = 24  // u_int64_t ifi_ipackets
	offIfiIerrors  = 32  // u_int64_t ifi_ierrors
	offIfiOpackets = 40  // u_int64_t ifi_opackets
	offIfiOerrors  = 48  // u_int64_t ifi_oerrors
	offIfiIbytes   = 64  // u_int64_t ifi_ibytes (truncated to 32 bits in IFLIST2 since macOS 13.2.1)
	offIfiObytes   = 72  // u_int64_t ifi_obytes (idem)
	offIfiIqdrops  = 96  // u_int64_t ifi_iqdrops
	sizeIfData64   = 128 // ends with ifi_recvtiming, ifi_xmittiming, ifi_lastchange (timeval32)
)

// struct sockaddr_dl (net/if_dl.h), at least 8 bytes plus sdl_data.
const (
	offSdlLen    = 0 // u_char sdl_len: total length of the sockaddr
	offSdlFamily = 1 // u_char sdl_family: AF_LINK
	offSdlNlen   = 5 // u_char sdl_nlen: length of the name at sdl_data
	offSdlData   = 8 // char   sdl_data[]: name, then link-level address
)

// struct ifmibdata (net/if_mib.h), 180 bytes: if_data64 is 4-byte aligned
// (pack(4)), so ifmd_data starts right after ifmd_filler at 52.
const (
	offIfmdName     = 0  // char         ifmd_name[IFNAMSIZ=16], NUL-terminated
	ifNameSize      = 16 // IFNAMSIZ
	offIfmdFlags    = 20 // unsigned int ifmd_flags: IFF_* flags
	offIfmdSndDrops = 32 // unsigned int ifmd_snd_drops: packets dropped at the send queue
	offIfmdData     = 52 // struct if_data64 ifmd_data
	sizeIfmibdata   = offIfmdData + sizeIfData64
)
